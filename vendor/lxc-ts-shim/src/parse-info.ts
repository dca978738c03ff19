/** `lxc-info` output as typed data. */
export type LxcState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'ABORTING' | 'FREEZING' | 'FROZEN' | 'THAWED';

export interface LxcInfo {
  name: string;
  state: LxcState;
  pid?: number;
  ips: string[];
  /** `Memory use` in bytes, when printed. */
  memoryBytes?: number;
}

const UNITS: Record<string, number> = { bytes: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** Parse `lxc-info -n NAME` (the default `Key: value` lines). */
export function parseInfo(text: string): LxcInfo {
  const info: LxcInfo = { name: '', state: 'STOPPED', ips: [] };
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z ]+):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    switch (key) {
      case 'Name':
        info.name = value;
        break;
      case 'State':
        info.state = value as LxcState;
        break;
      case 'PID':
        info.pid = Number(value);
        break;
      case 'IP':
        info.ips.push(value);
        break;
      case 'Memory use': {
        const mm = /^([0-9.]+)\s*(\w+)$/.exec(value);
        if (mm && UNITS[mm[2]!] !== undefined) info.memoryBytes = Math.round(Number(mm[1]) * UNITS[mm[2]!]!);
        break;
      }
    }
  }
  return info;
}
