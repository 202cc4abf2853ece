//! `cargo xtask demo`: the seed's call through every built plugin, on every host.

use anyhow::Context;
use xshell::Shell;

use crate::build::{build_hosts, Artifact};
use crate::project_root;
use crate::table::{Language, HOSTS};

/// Runs `<host command> demo LABEL=PATH...` for every host that could be built, with every
/// plugin in `plugins`. Labels go to stderr and the seed's lines to stdout, so stdout holds
/// exactly the seed's output once per plugin and host.
pub fn demo(sh: &Shell, plugins: &[(&'static Language, Artifact)]) -> anyhow::Result<()> {
    if plugins.is_empty() {
        anyhow::bail!("no plugin was built, so there is nothing to demo");
    }
    let hosts = build_hosts(sh, &crate::all(HOSTS))?;
    let root = project_root();
    for (host, artifact) in &hosts.ready {
        let labels: Vec<String> = plugins
            .iter()
            .map(|(language, plugin)| {
                let wasm = plugin.path.strip_prefix(&root).unwrap_or(&plugin.path);
                format!("{language} on {host}={}", wasm.display())
            })
            .collect();
        let mut subcommand = vec!["demo"];
        subcommand.extend(labels.iter().map(String::as_str));
        let command = host.launch(&root, &artifact.path, &subcommand);
        let mut cmd = sh.cmd(&command.program).args(&command.args);
        for (key, value) in &command.env {
            cmd = cmd.env(key, value);
        }
        cmd.run()
            .with_context(|| format!("the demo on {host} failed"))?;
    }
    Ok(())
}
