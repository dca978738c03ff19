/**
 * The slice of dockerode the driver uses, without dockerode's entry module: `require('dockerode')`
 * also loads BuildKit's gRPC session support (@grpc/grpc-js, protobufjs), about 170 ms of start-up
 * on every CLI call, for nothing berth uses. This takes dockerode's own Container, Image and Exec
 * classes and docker-modem (dockerode's transport) directly; engine-level calls go through the
 * modem's `dial` with the same paths and options as dockerode's.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

type ModemCallback = (err: unknown, data: unknown) => void;

/** The parts of docker-modem the driver calls. */
export interface DockerModem {
  dial(options: DialOptions, callback: ModemCallback): void;
  followProgress(stream: NodeJS.ReadableStream, onFinished: (err: Error | null, output: unknown[]) => void): void;
}

export interface DialOptions {
  path: string;
  method: 'GET' | 'POST' | 'DELETE';
  options?: object;
  file?: Readable;
  isStream?: boolean;
  statusCodes: Record<number, boolean | string>;
}

export interface ModemOptions {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
}

type ContainerClass = new (modem: DockerModem, id: string) => Docker.Container;
type ImageClass = new (modem: DockerModem, name: string) => Docker.Image;
type ModemClass = new (options?: ModemOptions) => DockerModem;

export class DockerApi {
  constructor(readonly modem: DockerModem) {}

  /** A client for these options; without options docker-modem reads DOCKER_HOST (and its TLS variables). */
  static connect(options?: ModemOptions): DockerApi {
    const Modem = require('docker-modem') as ModemClass;
    const modem = new Modem(options);
    // dockerode's classes build their promises with the modem's `Promise`, which Docker's constructor sets.
    (modem as DockerModem & { Promise: PromiseConstructor }).Promise = Promise;
    return new DockerApi(modem);
  }

  dial<T>(options: DialOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => this.modem.dial(options, (err, data) => (err ? reject(err) : resolve(data as T))));
  }

  version(): Promise<Docker.DockerVersion> {
    return this.dial({ path: '/version', method: 'GET', statusCodes: { 200: true, 500: 'server error' } });
  }

  getContainer(id: string): Docker.Container {
    const Container = require('dockerode/lib/container') as ContainerClass;
    return new Container(this.modem, id);
  }

  getImage(name: string): Docker.Image {
    const Image = require('dockerode/lib/image') as ImageClass;
    return new Image(this.modem, name);
  }

  /** `POST /containers/create`, returning the engine's answer as is (Warnings included, which dockerode drops). */
  createContainer(name: string, body: object): Promise<{ Id: string; Warnings?: string[] | null }> {
    return this.dial({
      path: '/containers/create?',
      method: 'POST',
      options: { _query: { name }, _body: body },
      statusCodes: { 200: true, 201: true, 400: 'bad parameter', 404: 'no such image', 409: 'conflict', 500: 'server error' },
    });
  }

  /** `GET /images/json` with a label filter: the tags of the images that carry `label=value`. */
  async imageTagsWithLabel(label: string, value: string): Promise<string[]> {
    const images = await this.dial<{ RepoTags?: string[] | null }[]>({
      path: '/images/json?',
      method: 'GET',
      options: { filters: { label: [`${label}=${value}`] } },
      statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
    });
    return images.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  }

  /** `POST /images/create?fromSrc=-` with a tar stream (dockerode's importImage); resolves when the import finished. */
  async importImage(tar: Readable, repo: string, tag: string, changes: string[] = []): Promise<void> {
    const progress = await this.dial<NodeJS.ReadableStream>({
      path: '/images/create?',
      method: 'POST',
      options: { fromSrc: '-', repo, tag, ...(changes.length > 0 ? { changes } : {}) },
      file: tar,
      isStream: true,
      statusCodes: { 200: true, 500: 'server error' },
    });
    await new Promise<void>((resolve, reject) => {
      this.modem.followProgress(progress, (err, output) => {
        const failed = (output as { error?: string; errorDetail?: { message?: string } }[] | undefined)?.find((o) => o.error || o.errorDetail);
        if (err) reject(err);
        else if (failed) reject(new Error(`docker import: ${failed.errorDetail?.message ?? failed.error}`));
        else resolve();
      });
    });
  }
}
