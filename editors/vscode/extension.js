// The qidsl extension: .qi files get their language, highlighting (syntaxes/qi.tmLanguage.json)
// and the qidsl language server (`qidsl lsp`, over stdio): mistakes as you type, formatting,
// hover, completion, go to definition, references, outline and folding.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

async function activate(context) {
  const settings = vscode.workspace.getConfiguration("qidsl");
  const command = settings.get("path", "qidsl");
  const args = settings.get("args", ["lsp"]);
  const server = { command, args };
  client = new LanguageClient(
    "qidsl",
    "qidsl",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "qi" }, { scheme: "untitled", language: "qi" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.qi") },
    },
  );
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `qidsl: could not start '${command} ${args.join(" ")}' (${error.message}). ` +
        "Install it with: pip install 'qidsl[lsp]', or set qidsl.path.",
    );
  }
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
