/**
 * The local stack runs RabbitMQ and pure-ftpd from Debian's packages. When one is missing, install it
 * as root (a container or CI), and otherwise say in one line what to install.
 */
import { spawnSync } from 'node:child_process';

export function requireDebianPackage(
  packageName: string,
  isInstalled: () => boolean,
  onLog: (line: string) => void = (line) => console.error(line),
): void {
  if (isInstalled()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${packageName} is not installed: run \`sudo apt-get install -y ${packageName}\``);
  }
  onLog(`${packageName} is not installed; installing it with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', packageName], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  // A fresh image has no package lists yet: update them once and try again.
  if (install().status !== 0) {
    spawnSync('apt-get', ['update'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const retry = install();
    if (retry.status !== 0) throw new Error(`apt-get install ${packageName} failed (${retry.status})`);
  }
  if (!isInstalled()) throw new Error(`${packageName} was installed but is still not found`);
}
