import type { PGlite } from "@electric-sql/pglite";

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

const byte = (c: string) => c.charCodeAt(0);
// Parse, Bind, Describe, Execute, Close, Flush: an extended-query cycle runs until its Sync.
const EXTENDED_QUERY_MESSAGES = new Set(["P", "B", "D", "E", "C", "H"].map(byte));
const SYNC = byte("S");

/**
 * Replaces pglite-socket's query queue (same interface), which hands PGlite's single session to whichever
 * connection sent the next message. That is safe between transactions of the simple protocol, but node-postgres
 * and Prisma use the extended protocol: connection A's Parse/Bind/Execute/Sync can then interleave with B's on
 * the one unnamed statement ("bind message supplies 3 parameters, but prepared statement "" requires 2").
 * This queue keeps the session with one connection from its first extended-query message to its Sync, and for
 * the whole of an open transaction, as a real server's separate sessions would.
 */
export class CycleAwareQueryQueue {
  private queue: QueuedMessage[] = [];
  private processing = false;
  private lastHandlerId: number | null = null;
  private openCycleHandlerId: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.processQueue();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** The connection that must go next, if the session is held by one. */
  private holder(): number | null {
    if (this.openCycleHandlerId !== null) return this.openCycleHandlerId;
    return this.db.isInTransaction() ? this.lastHandlerId : null;
  }

  private next(): QueuedMessage | undefined {
    const holder = this.holder();
    if (holder === null) return this.queue.shift();
    const index = this.queue.findIndex((m) => m.handlerId === holder);
    // The holder's next message has not arrived yet: wait for it (enqueue restarts processing).
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        const current = item;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(current.message, {
              onRawData: (data) => {
                bytes += data.length;
                current.onData(data);
              },
            }),
          );
        } catch (error) {
          current.reject(error);
          continue;
        }
        const type = current.message[0];
        if (type !== undefined && EXTENDED_QUERY_MESSAGES.has(type)) this.openCycleHandlerId = current.handlerId;
        else if (type === SYNC && this.openCycleHandlerId === current.handlerId) this.openCycleHandlerId = null;
        this.lastHandlerId = current.handlerId;
        current.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }

  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((m) => {
      if (m.handlerId !== handlerId) return true;
      m.reject(new Error("Handler disconnected"));
      return false;
    });
    if (this.openCycleHandlerId === handlerId) this.openCycleHandlerId = null;
  }

  /** A connection that went away mid-transaction must not leave the session inside it. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.db.isInTransaction() && this.lastHandlerId === handlerId) {
      await this.db.exec("ROLLBACK");
      this.lastHandlerId = null;
    }
    if (this.openCycleHandlerId === handlerId) this.openCycleHandlerId = null;
    await this.processQueue();
  }
}
