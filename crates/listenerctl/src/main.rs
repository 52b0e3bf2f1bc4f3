//! The `listenerctl` binary; see the library for the commands.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(listenerctl::main_with(std::env::args_os()))
}
