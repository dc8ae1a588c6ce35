// Registration of CLI subcommands: one file per subcommand, each thin over the libraries.
#pragma once

#include <CLI/CLI.hpp>

namespace cumulus::cli {

// Each returns the exit status through `status` once the subcommand has run.
void addWastCommand(CLI::App& app, int& status);
void addCompileCommand(CLI::App& app, int& status);
void addRunCoreCommand(CLI::App& app, int& status);
void addInspectCommand(CLI::App& app, int& status);
void addRunCommand(CLI::App& app, int& status);
void addComponentWastCommand(CLI::App& app, int& status);
void addServeCommand(CLI::App& app, int& status);
void addUpCommand(CLI::App& app, int& status);
void addHostCommand(CLI::App& app, int& status);
void addGetCommand(CLI::App& app, int& status);
void addLinkCommand(CLI::App& app, int& status);
void addConfigCommand(CLI::App& app, int& status);
void addLabelCommand(CLI::App& app, int& status);
void addScaleCommand(CLI::App& app, int& status);
void addStartCommand(CLI::App& app, int& status);
void addStopCommand(CLI::App& app, int& status);
void addUpdateCommand(CLI::App& app, int& status);
void addEventsCommand(CLI::App& app, int& status);
void addCallCommand(CLI::App& app, int& status);
void addDownCommand(CLI::App& app, int& status);

}  // namespace cumulus::cli
