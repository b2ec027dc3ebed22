import Foundation
import PackagePlugin

/// Embeds files that live outside a target's folder into that target as Swift string constants, so the
/// `sightline` binary carries its own schema migrations and HTTP contract and needs no data files beside it.
///
/// What each target embeds is fixed here: `Storage` the SQL migrations of `db/migrations`, `API` the root
/// `openapi.yaml`.
@main
struct EmbedFilesPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let inputs: [URL]
        switch target.name {
        case "Storage":
            let folder = root.appending(path: "db/migrations")
            inputs = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        case "API":
            inputs = [root.appending(path: "openapi.yaml")]
        default:
            return []
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) file(s) into \(target.name)",
                executable: try context.tool(named: "EmbedFiles").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
