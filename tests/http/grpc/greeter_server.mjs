// A gRPC Greeter server (h2c, @grpc/grpc-js) for the HTTP tests: answers SayHello with
// "Hello <name> from grpc-js" and prints the port it bound once it is serving.
// usage: node greeter_server.mjs NODE_MODULES_DIR [HOST]   (port 0: any free port)
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [modules, host = '[::1]'] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modules), 'x.js'));
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const here = path.dirname(fileURLToPath(import.meta.url));
const def = loader.loadSync(path.join(here, 'helloworld.proto'));
const proto = grpc.loadPackageDefinition(def).helloworld;

let calls = 0;
const server = new grpc.Server();
server.addService(proto.Greeter.service, {
  SayHello(call, callback) {
    calls += 1;
    callback(null, { message: `Hello ${call.request.name} from grpc-js (call ${calls})` });
  },
});
server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(`bind failed: ${err.message}`);
    process.exit(1);
  }
  console.log(`listening ${port}`);
});
process.on('SIGTERM', () => server.forceShutdown());
