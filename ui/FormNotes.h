// FormNotes.h — the wrapped, selectable notes a settings form shows under its fields, and the
// same note in the error colour (hidden while there is nothing to say). Used by SettingsDialog
// and its BackendSettingsBox.
#pragma once

#include <QString>

class QLabel;
class QWidget;

namespace magpie::ui {

QLabel *formNote(QWidget *parent, const QString &text = QString(), const char *objectName = nullptr);
// Sets `text` in the error colour; an empty text hides the label.
void showFormError(QLabel *label, const QString &text);

} // namespace magpie::ui
