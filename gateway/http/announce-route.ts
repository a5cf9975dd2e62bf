/**
 * `POST /cluster/announce`: a new leader says so. Only an announcement signed with the cluster
 * secret, for this cluster, fresh, and not older in term than the leader already known is
 * taken; anything else is refused and logged (a forged or replayed announcement could otherwise
 * point every write at the wrong node).
 */

import express from 'express';
import type { Logger } from 'pino';
import { ANNOUNCE_PATH, SIGNATURE_HEADER, verifyAnnouncement } from '../../common/announcement.js';
import { MAX_ANNOUNCEMENT_BYTES } from '../../common/limits.js';
import type { LeaderRegistry } from '../routing/leader-registry.js';

export function announceRoute(
  app: express.Express,
  options: { registry: LeaderRegistry; secret: string; clusterId: string; logger: Logger },
): void {
  app.post(ANNOUNCE_PATH, express.text({ type: () => true, limit: MAX_ANNOUNCEMENT_BYTES }), (req, res) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const signature = req.get(SIGNATURE_HEADER);
    const verified = verifyAnnouncement(options.secret, options.clusterId, body, signature);
    if (!verified.ok) {
      options.logger.warn({ reason: verified.reason, from: req.ip }, 'refused a leader announcement');
      res.status(401).json({ accepted: false, reason: verified.reason });
      return;
    }
    const { nodeId, url, term } = verified.announcement;
    const result = options.registry.accept({ id: nodeId, url: url.replace(/\/$/, ''), term });
    if (result.kind === 'refused') {
      options.logger.warn({ nodeId, term, reason: result.reason }, 'refused a stale leader announcement');
      res.status(409).json({ accepted: false, reason: result.reason, leader: result.known });
      return;
    }
    // Logged even when the registry knew the leader already (from its transition on the node's
    // clusterEvents feed): an announcement comes once per term, after the fence claim.
    options.logger.info({ leader: nodeId, term, url, news: result.changed }, 'leader announced');
    res.json({ accepted: true, leader: result.leader });
  });
}
