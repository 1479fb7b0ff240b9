import { generatedServer, startFakeOpenStack } from '../test/support/fake-openstack.js';

/**
 * Child process of bench/sync-openstack.ts: serves a fake OpenStack cloud of
 * `count` generated servers on 127.0.0.1, one in four with a 50 GiB Cinder
 * volume, prints its URL on stdout and runs until it is killed.
 */

const count = Number(process.argv[2]);
if (!Number.isSafeInteger(count) || count < 1)
  throw new Error(`usage: fake-openstack-server.ts COUNT, got ${process.argv[2]}`);

const volumeOf = (index: number) => `bench-volume-${index.toString(16).padStart(12, '0')}`;
const volumes = [];
for (let index = 0; index < count; index += 4) volumes.push({ id: volumeOf(index), size: 50 });

const cloud = await startFakeOpenStack({
  servers: {
    count,
    serverAt: (index) => ({
      ...generatedServer(index),
      ...(index % 4 === 0 ? { volumes: [volumeOf(index)] } : {}),
    }),
  },
  volumes,
});
console.log(cloud.url);
