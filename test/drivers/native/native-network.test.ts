/** Bridge networking on the native driver through the built CLI (test/network/cli-network-suite.ts). */
import { NativeDriver } from '../../../drivers/native/native-driver';
import { cliNetworkSuite } from '../../network/cli-network-suite';

cliNetworkSuite(new NativeDriver());
