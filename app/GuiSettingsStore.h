// GuiSettingsStore.h — the window's settings (ui::WindowSettings) kept in the app's settings
// file (Settings): load, save and the QSettings for the window's own "ui/…" keys.
#pragma once

#include "Settings.h"
#include "WindowSettings.h"

namespace magpie {

class GuiSettingsStore : public ui::SettingsStore
{
public:
    static ui::WindowSettings toWindow(const Settings &s);
    static Settings fromWindow(const ui::WindowSettings &w);

    ui::WindowSettings load() const override;
    bool save(const ui::WindowSettings &settings, QString *error) override;
    std::unique_ptr<QSettings> stateStore() const override;
    QString defaultDataDir() const override;
};

} // namespace magpie
