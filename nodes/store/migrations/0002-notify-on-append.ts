import { Migration } from '@mikro-orm/migrations';

/**
 * Every statement that inserts into the log notifies the listeners (the live feeds) at commit.
 * A trigger, not a call in the writer: a notification can then never be forgotten, and the
 * writer saves a round trip.
 */
export class NotifyOnAppend extends Migration {
  override up(): void {
    this.addSql(`
      create function event_notify() returns trigger language plpgsql as $$
      begin
        perform pg_notify('ensemble_events', '');
        return null;
      end $$`);
    this.addSql(`
      create trigger event_notify after insert on event
        for each statement execute function event_notify()`);
  }
}
