/**
 * What the browser suites stand on: PostgreSQL, a 3-node cluster with its gateway (announced
 * leader) and Debian's headless Chromium driven by playwright-core.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import type { LocalCluster } from '../launcher/local-cluster.js';
import type { ServiceProcess } from '../launcher/service-process.js';
import { gatewayCluster, gatewayProcess, type StackIdentity, startGateway } from './gateway-stack.js';
import { startTestPostgres } from './postgres.js';

export interface BrowserStack {
  readonly cluster: LocalCluster;
  readonly gateway: ServiceProcess;
  readonly browser: Browser;
  stop(): Promise<void>;
}

export async function startBrowserStack(stack: StackIdentity, name: string): Promise<BrowserStack> {
  // Stopped in reverse on the way out, also when the start fails halfway.
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const pg = await startTestPostgres();
    stops.push(() => pg.stop());
    const gateway = gatewayProcess(stack);
    stops.push(() => gateway.stop());
    await startGateway(gateway);
    const cluster = gatewayCluster(stack, {
      dataRoot: mkdtempSync(join(tmpdir(), `ensemble-${name}-`)),
      databaseUrl: await pg.createDatabase(name),
    });
    stops.splice(1, 0, () => cluster.stopAll()); // after the gateway, before PostgreSQL
    const announced = gateway.waitFor(
      (r) => r.msg === 'leader announced' || r.msg === 'leader found by health check',
      30_000,
      'a leader',
    );
    cluster.startAll();
    await announced;
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    stops.push(() => browser.close());
    return { cluster, gateway, browser, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
