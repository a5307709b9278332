// GuiMain.h — the desktop entry point, called by app/main.cpp when --headless is absent:
// one process runs the window, the Executor and the local HTTP endpoint (ApiEndpoint), so
// SDK scripts work while the window is open and their jobs appear in it live. This is the
// wiring: app/ builds the parts, ui/ (MainWindow) shows them.
#pragma once

namespace magpie {

// Creates the QApplication, loads the settings (Settings), locks the data folder, opens the
// Executor, starts the HTTP endpoint (endpoint.json for the SDK) and shows MainWindow.
// Options (all optional): --data-dir DIR, --listen ADDR:PORT, --max-parallel N,
// --accel auto|tcg|kvm, --theme system|light|dark; hidden: --screenshot-dir DIR
// (see ui/ScreenshotTour.h). Returns the process exit code.
int runGui(int argc, char **argv);

} // namespace magpie
