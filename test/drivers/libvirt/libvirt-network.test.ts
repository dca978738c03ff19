/**
 * Bridge networking on the libvirt driver through the built CLI (test/network/cli-network-suite.ts);
 * needs libvirtd (scripts/daemons/libvirtd.sh start).
 */
import { LibvirtDriver } from '../../../drivers/libvirt/libvirt-driver';
import { cliNetworkSuite } from '../../network/cli-network-suite';

cliNetworkSuite(new LibvirtDriver());
