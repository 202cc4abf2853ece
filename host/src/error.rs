//! The typed error of the library API: every way loading a plugin or calling it can go wrong,
//! each variant naming the plugin and, for calls, the export.

use std::path::PathBuf;

use crate::Failure;

/// Everything that can go wrong between loading a plugin and getting its output.
/// Every variant names the plugin, and the export where there is one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read plugin {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot load plugin {plugin}: {cause}")]
    Load { plugin: String, cause: String },
    #[error("plugin {plugin} has no export {export} of type () -> i32")]
    MissingExport { plugin: String, export: String },
    #[error("plugin {plugin} failed in export {export}: {failure}")]
    Call {
        plugin: String,
        export: String,
        failure: Failure,
    },
}
