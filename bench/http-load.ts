import autocannon from 'autocannon';
import { LatencyRecorder, round } from './latency.ts';
import type { BenchSettings } from './settings.ts';
import { CLIENT_HEADERS, item, paths, randomOf } from './workload.ts';

export type HttpScenario = 'get' | 'find' | 'create';

export interface HttpMeasurement {
  /** Mean of autocannon's per-second request counts. */
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses received in the measured window. */
  readonly responses: number;
  /** Connection errors and timeouts, warm-up included: any is a bug, never load shedding. */
  readonly errors: number;
  /** Non-2xx responses, warm-up included. */
  readonly non2xx: number;
}

export interface ScenarioInput {
  readonly origin: string;
  /** Seeded object ids; gets pick among them at random. */
  readonly ids: readonly string[];
  readonly findLimit: number;
}

/** Creates number their items from here, clear of the seeded ones (only `name`/`score` vary). */
let createCounter = 1_000_000;

function requestFor(scenario: HttpScenario, input: ScenarioInput): autocannon.Request {
  switch (scenario) {
    case 'get':
      return {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: paths.get(randomOf(input.ids)) }),
      };
    case 'find':
      return { method: 'GET', path: paths.find(input.findLimit) };
    case 'create':
      return {
        method: 'POST',
        path: paths.create,
        headers: { ...CLIENT_HEADERS, 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: JSON.stringify(item(createCounter++)) }),
      };
  }
}

interface Run {
  readonly result: autocannon.Result;
  readonly latency: LatencyRecorder;
}

function run(scenario: HttpScenario, input: ScenarioInput, connections: number, durationSec: number): Promise<Run> {
  const latency = new LatencyRecorder();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: input.origin,
        connections,
        duration: durationSec,
        timeout: 10,
        headers: { ...CLIENT_HEADERS },
        requests: [requestFor(scenario, input)],
      },
      (error: unknown, result) => {
        if (error !== null && error !== undefined) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        else resolve({ result, latency });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latency.record(responseTime);
    });
  });
}

/** A discarded warm-up, then the measured run, both at the run's connection count. */
export async function measureHttp(scenario: HttpScenario, input: ScenarioInput, settings: BenchSettings): Promise<HttpMeasurement> {
  const warmup = await run(scenario, input, settings.connections, settings.warmupSec);
  const { result, latency } = await run(scenario, input, settings.connections, settings.durationSec);
  const [p50 = Number.NaN, p99 = Number.NaN] = latency.percentiles(50, 99);
  return {
    requestsPerSec: round(result.requests.mean, 1),
    p50Ms: round(p50, 2),
    p99Ms: round(p99, 2),
    responses: result.requests.total,
    errors: warmup.result.errors + result.errors,
    non2xx: warmup.result.non2xx + result.non2xx,
  };
}
