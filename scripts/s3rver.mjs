// s3rver for the tests and benchmarks: node scripts/s3rver.mjs DIR PORT BUCKET
import S3rver from 's3rver';

const [directory, port, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
await server.run();
console.log('s3rver ready');
for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => {
    setTimeout(() => process.exit(0), 1000).unref();
    server.close().then(() => process.exit(0));
  });
