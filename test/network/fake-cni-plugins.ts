/**
 * Small real CNI plugins for executor tests: shell scripts that record each call (stdin and CNI_*
 * environment) in a folder and answer like a plugin would. They are executed for real by the
 * executor, exactly as /usr/lib/cni plugins are.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RecordedCall {
  plugin: string;
  command: string;
  stdin: Record<string, unknown>;
  env: Record<string, string>;
}

const SCRIPT = `#!/bin/sh
in=$(cat)
log="$(dirname "$0")/calls"
n=$(ls "$log" | wc -l)
base="$log/$(printf %04d "$n")-$CNI_COMMAND-$(basename "$0")"
printf '%s' "$in" > "$base.stdin"
env | grep '^CNI_' | sort > "$base.env"
case "$in" in
  *'"fail":"'$CNI_COMMAND'"'*)
    echo '{"cniVersion":"1.0.0","code":107,"msg":"refused by fake","details":"fail was set for '$CNI_COMMAND'"}'
    exit 1 ;;
  *'"garbage":true'*)
    echo 'this is not json'; exit 0 ;;
esac
case "$CNI_COMMAND" in
  VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' ;;
  ADD) echo '{"cniVersion":"0.4.0","interfaces":[{"name":"'$CNI_IFNAME'","sandbox":"'$CNI_NETNS'"}],"ips":[{"version":"4","address":"10.99.0.2/24","gateway":"10.99.0.1","interface":0}],"routes":[{"dst":"0.0.0.0/0"}]}' ;;
esac
exit 0
`;

export class FakePlugins {
  readonly dir: string;

  constructor(names: string[]) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fake-cni-'));
    fs.mkdirSync(path.join(this.dir, 'calls'));
    for (const n of names) fs.writeFileSync(path.join(this.dir, n), SCRIPT, { mode: 0o755 });
  }

  calls(): RecordedCall[] {
    const folder = path.join(this.dir, 'calls');
    return fs
      .readdirSync(folder)
      .filter((f) => f.endsWith('.stdin'))
      .sort()
      .map((f) => {
        const [, command, plugin] = /^\d+-([A-Z]+)-(.+)\.stdin$/.exec(f)!;
        const env = Object.fromEntries(
          fs.readFileSync(path.join(folder, f.replace(/\.stdin$/, '.env')), 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
        return { plugin: plugin!, command: command!, stdin: JSON.parse(fs.readFileSync(path.join(folder, f), 'utf8')), env };
      });
  }

  reset(): void {
    const folder = path.join(this.dir, 'calls');
    for (const f of fs.readdirSync(folder)) fs.rmSync(path.join(folder, f));
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
