/** Bridge networking on the nspawn driver through the built CLI (test/network/cli-network-suite.ts). */
import { NspawnDriver } from '../../../drivers/nspawn/nspawn-driver';
import { cliNetworkSuite } from '../../network/cli-network-suite';

cliNetworkSuite(new NspawnDriver());
