// The `cumulus` binary: CLI, and (later) `cumulus host` / `cumulus up`.
#include <CLI/CLI.hpp>

#include "base/log.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Cumulus: a WebAssembly application platform (wasmCloud 1.x compatible)"};
  app.require_subcommand(1);
  std::string log_level;
  app.add_option("--log", log_level, "log level: trace, debug, info, warn, error, off");
  int status = 0;
  cumulus::cli::addWastCommand(app, status);
  cumulus::cli::addCompileCommand(app, status);
  cumulus::cli::addRunCoreCommand(app, status);
  cumulus::cli::addInspectCommand(app, status);
  cumulus::cli::addRunCommand(app, status);
  cumulus::cli::addComponentWastCommand(app, status);
  cumulus::cli::addServeCommand(app, status);
  cumulus::cli::addUpCommand(app, status);
  cumulus::cli::addHostCommand(app, status);
  cumulus::cli::addGetCommand(app, status);
  cumulus::cli::addLinkCommand(app, status);
  cumulus::cli::addConfigCommand(app, status);
  cumulus::cli::addLabelCommand(app, status);
  cumulus::cli::addScaleCommand(app, status);
  cumulus::cli::addStartCommand(app, status);
  cumulus::cli::addStopCommand(app, status);
  cumulus::cli::addUpdateCommand(app, status);
  cumulus::cli::addEventsCommand(app, status);
  cumulus::cli::addCallCommand(app, status);
  cumulus::cli::addDownCommand(app, status);
  app.parse_complete_callback([&] {
    if (!log_level.empty()) cumulus::setLogLevel(log_level);
  });
  CLI11_PARSE(app, argc, argv);
  return status;
}
