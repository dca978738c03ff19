import { dottedSysctlName, parseSysctlName, sysctlPath } from '../../../core/spec/sysctl-names';

describe('sysctl names, read as sysctl(8) reads them', () => {
  test('dotted names: dots separate, a slash stands for a dot inside a component', () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('net/ipv4/ip_forward');
    expect(sysctlPath('net.ipv4.conf.eth0/100.forwarding')).toBe('net/ipv4/conf/eth0.100/forwarding');
    expect(sysctlPath('net.ipv6.conf.eth0/100/200.accept_ra')).toBe('net/ipv6/conf/eth0.100.200/accept_ra');
  });

  test('path names: the first separator is a slash, dots are plain characters', () => {
    expect(sysctlPath('net/ipv4/conf/eth0.100/forwarding')).toBe('net/ipv4/conf/eth0.100/forwarding');
    expect(sysctlPath('kernel/msgmax')).toBe('kernel/msgmax');
  });

  test('names that name no file below /proc/sys are refused', () => {
    for (const bad of ['', 'net', 'net.', '.net.ipv4', 'net..ipv4', 'net/../../etc/passwd', 'net.ipv4.x=1', 'net ipv4', '/net/ipv4', 'net/ipv4/', 'net.ipv4.conf.a/../b']) {
      expect([bad, sysctlPath(bad)]).toEqual([bad, undefined]);
    }
  });

  test('the namespace comes from the path, whichever spelling', () => {
    expect(parseSysctlName('net.ipv4.conf.eth0/100.forwarding')).toEqual({ path: 'net/ipv4/conf/eth0.100/forwarding', namespace: 'network' });
    expect(parseSysctlName('kernel/shm_rmid_forced')?.namespace).toBe('ipc');
    expect(parseSysctlName('fs.mqueue.msg_max')?.namespace).toBe('ipc');
    expect(parseSysctlName('kernel.hostname')?.namespace).toBe('uts');
    expect(parseSysctlName('kernel.panic')).toEqual({ path: 'kernel/panic' });
    expect(parseSysctlName('vm/swappiness')).toEqual({ path: 'vm/swappiness' });
    expect(parseSysctlName('fs.mqueue')).toEqual({ path: 'fs/mqueue' });
  });

  test('the dotted spelling round-trips with the path', () => {
    for (const key of ['net/ipv4/conf/eth0.100/forwarding', 'net.ipv4.conf.eth0/100.forwarding', 'kernel/msgmax']) {
      const dotted = dottedSysctlName(key)!;
      expect(dotted.startsWith('/')).toBe(false);
      expect(sysctlPath(dotted)).toBe(sysctlPath(key));
    }
    expect(dottedSysctlName('net/ipv4/conf/eth0.100/forwarding')).toBe('net.ipv4.conf.eth0/100.forwarding');
    expect(dottedSysctlName('bad..name')).toBeUndefined();
  });
});
