//! `purse env`: the environment that sends command-line tools through Purse.

use anyhow::Result;
use clap::{Args, ValueEnum};
use purse_api::env::{Shell as ApiShell, env_text};

use crate::settings::Place;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// The shell to print for.
    #[arg(long, value_enum, default_value = "bash")]
    shell: Shell,
    #[command(flatten)]
    place: Place,
}

impl EnvArgs {
    pub(crate) fn run(self) -> Result<()> {
        let context = self.place.resolve()?;
        let listen = context.config()?.proxy.listen;
        let shell = match self.shell {
            Shell::Bash => ApiShell::Bash,
            Shell::Zsh => ApiShell::Zsh,
            Shell::Fish => ApiShell::Fish,
            Shell::Powershell => ApiShell::Powershell,
        };
        crate::print(&env_text(&context, listen, shell)?)
    }
}
