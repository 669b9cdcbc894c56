// Each subcommand registers itself on the app and appends what runs it.
#pragma once

#include "cli/command.hpp"

namespace obatch::cli {

void add_run_command(CLI::App &app, Commands &out);
void add_status_command(CLI::App &app, Commands &out);
void add_cancel_command(CLI::App &app, Commands &out);
void add_download_command(CLI::App &app, Commands &out);
void add_list_command(CLI::App &app, Commands &out);
void add_create_input_command(CLI::App &app, Commands &out);
void add_validate_command(CLI::App &app, Commands &out);
void add_results_command(CLI::App &app, Commands &out);
void add_jobs_command(CLI::App &app, Commands &out);
void add_estimate_command(CLI::App &app, Commands &out);
void add_queue_command(CLI::App &app, Commands &out);
void add_serve_command(CLI::App &app, Commands &out);

}  // namespace obatch::cli
