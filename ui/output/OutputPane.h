// OutputPane.h — one tab of job output: a tool row (follow, wrap, line numbers, time column,
// find, "Save output…"), the OutputView, and the find bar under it.
// "Save output…" writes either the rendered text (no escape codes, progress lines collapsed) or
// the raw bytes as the job wrote them; the raw form comes from a writer the owner sets (the
// pane itself only knows the rendered rows) and is not offered without one.
#pragma once

#include "OutputView.h"

#include <QWidget>
#include <functional>

class QComboBox;
class QIODevice;
class QToolButton;

namespace magpie::ui {

class FindBar;
class OutputOptions;

class OutputPane : public QWidget
{
    Q_OBJECT
public:
    using RawWriter = std::function<bool(QIODevice &out, QString *error)>;
    enum class SaveFormat { Plain, Raw };

    // Takes `view` (reparented) and shares `options` (may be null: the pane keeps its own).
    OutputPane(OutputView *view, OutputOptions *options, QWidget *parent = nullptr);

    OutputView *view() const { return m_view; }
    FindBar *findBar() const { return m_find; }
    QToolButton *followButton() const { return m_follow; }
    QToolButton *wrapButton() const { return m_wrap; }
    QToolButton *lineNumbersButton() const { return m_lineNumbers; }
    QComboBox *timeCombo() const { return m_time; }
    QToolButton *findButton() const { return m_findButton; }
    QToolButton *saveButton() const { return m_save; }

    void setRawWriter(RawWriter writer) { m_raw = std::move(writer); }
    void setSuggestedFileName(const QString &name) { m_fileName = name; }
    // Asks where to save (a file dialog) and writes the file; errors are shown in a dialog.
    void saveOutput();
    // Writes the output to `path` without asking. False with *error when it cannot.
    bool saveTo(const QString &path, SaveFormat format, QString *error) const;
    void openFind();

signals:
    void saved(const QString &path);

private:
    void applyOptions();
    void runSearch(const QString &text);

    OutputView *m_view;
    OutputOptions *m_options;
    FindBar *m_find;
    QToolButton *m_follow, *m_wrap, *m_lineNumbers, *m_findButton, *m_save;
    QComboBox *m_time;
    RawWriter m_raw;
    QString m_fileName = QStringLiteral("output");
};

} // namespace magpie::ui
