/**
 * One lifecycle for the daemon's long-lived parts (bus, store, engine, routes, chain sync, VM
 * monitor, liveness watch, uptime reporter): each is a `Service` with start/stop; `Lifecycle`
 * starts them in the order given and stops them in reverse, also when a later start fails.
 *
 * @example
 * ```ts
 * const life = new Lifecycle(log);
 * await life.start(service("monitor", () => monitor.start(), () => monitor.stop()));
 * await life.stop(); // reverse order; a failing stop is logged, the others still run
 * ```
 */
import type { Logger } from "@zgrid/log";

export interface Service {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** A service from two functions. */
export function service(name: string, start: () => Promise<unknown> | unknown, stop: () => Promise<unknown> | unknown): Service {
  return { name, start: async () => void (await start()), stop: async () => void (await stop()) };
}

/** A service running `tick` every `intervalMs` (one at a time; stop waits for a tick in progress). */
export function intervalService(name: string, intervalMs: number, tick: () => Promise<void>, log: Logger): Service {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= tick().catch((e: unknown) => log.warn({ err: e, service: name }, "periodic step failed")).finally(() => (running = undefined));
  };
  return {
    name,
    start: () => {
      timer = setInterval(run, intervalMs);
      timer.unref();
    },
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

export class Lifecycle {
  readonly #started: Service[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Starts `s` now; it is stopped by `stop()` before everything started earlier. */
  async start<S extends Service>(s: S): Promise<S> {
    await s.start();
    this.#started.push(s);
    return s;
  }

  /** Names of the started services, in start order. */
  get names(): string[] {
    return this.#started.map((s) => s.name);
  }

  /** Stops every started service in reverse order; a failing stop is logged and the rest still stop. */
  async stop(): Promise<void> {
    while (this.#started.length > 0) {
      const s = this.#started.pop()!;
      try {
        await s.stop();
      } catch (e) {
        this.#log.warn({ err: e, service: s.name }, "stop step failed");
      }
    }
  }
}
