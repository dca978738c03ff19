import { EventEmitter } from 'node:events';

export type LifecycleEventType = 'create' | 'start' | 'exit' | 'kill' | 'pause' | 'resume' | 'update' | 'exec' | 'delete';

export interface LifecycleEvent {
  type: LifecycleEventType;
  id: string;
  driver: string;
  /** High-resolution time in ms (performance.now()), for measuring phases. */
  at: number;
  detail?: Record<string, unknown>;
}

/** Lifecycle events of the containers one ContainerManager handles. */
export class LifecycleEvents {
  private readonly emitter = new EventEmitter();

  on(listener: (event: LifecycleEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  emit(type: LifecycleEventType, id: string, driver: string, detail?: Record<string, unknown>): void {
    const event: LifecycleEvent = { type, id, driver, at: performance.now(), ...(detail ? { detail } : {}) };
    this.emitter.emit('event', event);
  }
}
