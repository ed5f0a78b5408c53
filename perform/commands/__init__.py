"""One module per `perform` subcommand: add_arguments(parser) and run(args) -> int."""
