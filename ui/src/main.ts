// The main window's entry point. The dashboard, history, rules and accounts views arrive
// with the wallet's commands; for now the window only says that the front end is up.

const statusLine = document.querySelector<HTMLParagraphElement>("#status");
if (statusLine) {
  statusLine.textContent = "The proxy and the approval popup are on their way.";
}
