// Preload (`node -r`) that records a V8 CPU profile of the whole process and writes it on exit, for
// BENCH_CPU_PROF_DIR: Node refuses --cpu-prof in NODE_OPTIONS, and the service is spawned by a shared helper.
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_CPU_PROF_DIR;
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
let written = false;
const write = () => {
  if (written) return;
  written = true;
  session.post('Profiler.stop', (error, result) => {
    if (error) return;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `service-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
};
process.on('exit', write);
process.once('SIGTERM', () => {
  write();
  setTimeout(() => process.exit(0), 2_000).unref();
});
