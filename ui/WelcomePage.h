// WelcomePage.h — what the Jobs tab shows while the history is empty: what Magpie Desktop does,
// a "Run an example" button (ExampleJobs: the guide's counter, five runs) next to "New job…",
// and how scripts reach it over the HTTP API.
#pragma once

#include <QWidget>

class QPushButton;

namespace magpie::ui {

class WelcomePage : public QWidget
{
    Q_OBJECT
public:
    explicit WelcomePage(QWidget *parent = nullptr);

    QPushButton *exampleButton() const { return m_example; }
    QPushButton *newJobButton() const { return m_newJob; }

signals:
    void runExampleRequested();
    void newJobRequested();

private:
    QPushButton *m_example, *m_newJob;
};

} // namespace magpie::ui
