// `cumulus call COMPONENT_ID FUNCTION` (like `wash call`): invokes a component's export directly
// over wRPC, wherever in the lattice it runs.
//   * `wasi:http/incoming-handler.handle` (or `wrpc:http/incoming-handler.handle`): sends an HTTP
//     request built from --http-method/--http-path/--http-body/--http-body-path/
//     --http-content-type/--http-host and prints the response body (status and headers with -v);
//   * `ns:pkg/iface[@version].function` (or a root function name) taking no parameters and
//     returning a string, like `wasmcloud:example/invoke.call`: prints the string.
// The wRPC request times out after --rpc-timeout-ms (default 2000, as wash).
#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "component/types.h"
#include "host/wrpc_http.h"
#include "lattice/wrpc.h"
#include "lattice/wrpc_codec.h"

namespace cumulus::cli {
namespace {

// Collects the response: prints the body to stdout as it arrives.
class PrintingSink : public wasi::http::ResponseSink {
 public:
  explicit PrintingSink(bool verbose) : verbose_(verbose) {}
  Expected<void> start(uint16_t status, const wasi::http::FieldList& headers) override {
    this->status = status;
    if (verbose_) {
      fmt::print(stderr, "HTTP {}\n", status);
      for (const auto& [n, v] : headers) fmt::print(stderr, "{}: {}\n", n, v);
    }
    return {};
  }
  wasi::StreamResult write(std::string_view chunk) override {
    std::fwrite(chunk.data(), 1, chunk.size(), stdout);
    return {};
  }
  Expected<void> finish(const wasi::http::FieldList*) override {
    std::fflush(stdout);
    return {};
  }
  uint16_t status = 0;

 private:
  bool verbose_;
};

class StringBody : public wasi::http::BodyReader {
 public:
  explicit StringBody(std::string s) : data_(std::move(s)) {}
  wasi::StreamResult read(uint64_t max, bool) override {
    if (data_.empty()) return wasi::StreamResult::closed();
    return wasi::http::takeFront(data_, max);
  }

 private:
  std::string data_;
};

}  // namespace

void addCallCommand(CLI::App& app, int& status) {
  struct Args {
    CtlOptions ctl;
    std::string component_id, function;
    uint64_t rpc_timeout_ms = 2000;
    std::string method = "GET", path = "/", body, body_path, content_type, host;
    bool verbose = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("call", "invoke a component's export over wRPC (like `wash call`)");
  cmd->add_option("component_id", args->component_id, "the component's id")->required();
  cmd->add_option("function", args->function,
                  "wasi:http/incoming-handler.handle, or ns:pkg/iface[@ver].function taking no "
                  "parameters and returning a string")
      ->required();
  addCtlOptions(cmd, args->ctl);
  cmd->add_option("--rpc-timeout-ms", args->rpc_timeout_ms, "wRPC timeout (default 2000)");
  cmd->add_option("--http-method", args->method, "HTTP method (default GET)");
  cmd->add_option("--http-path", args->path, "path and query (default /)");
  cmd->add_option("--http-body", args->body, "request body");
  cmd->add_option("--http-body-path", args->body_path, "read the request body from this file");
  cmd->add_option("--http-content-type", args->content_type, "content-type header");
  cmd->add_option("--http-host", args->host, "authority (host header)");
  cmd->add_flag("-v,--verbose", args->verbose, "print the HTTP status and headers to stderr");
  cmd->callback([args, &status] {
    auto run = [&]() -> Expected<void> {
      CUMULUS_TRY(auto client, CtlClient::connect(args->ctl));
      lattice::WrpcClient wrpc(client->nats());
      std::string prefix = fmt::format("{}.{}", args->ctl.lattice.lattice, args->component_id);
      auto timeout = std::chrono::milliseconds(args->rpc_timeout_ms);
      size_t dot = args->function.rfind('.');
      std::string instance = dot == std::string::npos ? "" : args->function.substr(0, dot);
      std::string function = dot == std::string::npos ? args->function : args->function.substr(dot + 1);
      std::string unversioned = instance.substr(0, instance.find('@'));
      if (unversioned == "wasi:http/incoming-handler" || unversioned == "wrpc:http/incoming-handler") {
        std::string body = args->body;
        if (!args->body_path.empty()) {
          CUMULUS_TRY(auto bytes, readFile(args->body_path));
          body.assign(bytes.begin(), bytes.end());
        }
        wasi::http::RequestHead head;
        head.method = args->method;
        head.target = args->path;
        if (!args->host.empty()) head.authority = args->host;
        if (!args->content_type.empty()) head.headers.emplace_back("content-type", args->content_type);
        PrintingSink sink(args->verbose);
        auto r = host::forwardHttp(wrpc, prefix, head, std::make_shared<StringBody>(std::move(body)), sink);
        if (!r.ok() && r.error().code() == ErrorCode::kNotFound) {
          return makeError(ErrorCode::kNotFound, "{} (is component {} running? `cumulus get inventory`)",
                           r.error().message(), args->component_id);
        }
        CUMULUS_TRY_VOID(r);
        if (sink.status >= 400) return makeError(ErrorCode::kIo, "HTTP status {}", sink.status);
        return {};
      }
      // A function without parameters returning a string.
      auto func = std::make_shared<component::CType>();
      func->kind = component::CType::Kind::kFunc;
      func->result = component::primType(component::Prim::kString);
      auto results = wrpc.call(prefix, instance, function, *func, {}, {}, timeout);
      if (!results.ok()) {
        return Error(results.error().code(),
                     fmt::format("{} (only functions without parameters returning a string, and "
                                 "wasi:http/incoming-handler.handle, can be called)",
                                 results.error().message()));
      }
      if (args->ctl.json()) {
        printJson({{"success", true}, {"response", results->at(0).asString()}});
      } else {
        fmt::print("{}\n", results->at(0).asString());
      }
      return {};
    };
    status = finish(args->ctl, run());
  });
}

}  // namespace cumulus::cli
