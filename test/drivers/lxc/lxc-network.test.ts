/** Bridge networking on the lxc driver through the built CLI (test/network/cli-network-suite.ts). */
import { LxcDriver } from '../../../drivers/lxc/lxc-driver';
import { cliNetworkSuite } from '../../network/cli-network-suite';

cliNetworkSuite(new LxcDriver());
