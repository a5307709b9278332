#include "WelcomePage.h"

#include "UiFormat.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace magpie::ui {

WelcomePage::WelcomePage(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("welcomePage"));
    auto *outer = new QVBoxLayout(this);
    outer->addStretch(1);
    auto *icon = new QLabel(this);
    icon->setPixmap(appIcon().pixmap(72, 72));
    icon->setAlignment(Qt::AlignCenter);
    outer->addWidget(icon);
    auto *title = new QLabel(tr("<h2>Run shell scripts in real virtual machines, on this computer</h2>"), this);
    title->setAlignment(Qt::AlignCenter);
    outer->addWidget(title);
    auto *text = new QLabel(tr("<p>Each job is a bash script that runs in a fresh QEMU VM; its output, exit code and "
                               "duration are kept here.</p>"
                               "<p>A <b>stateful</b> job mounts a persistent disk at <tt>/workspace</tt>: the next job "
                               "on the same workspace finds the files the last one left.</p>"
                               "<p><b>Run an example</b> runs the counter from the stateful-jobs guide five times on "
                               "the workspace <tt>counter-demo</tt>: each run adds one and prints "
                               "<tt>Counter is now: N</tt>.</p>"),
                            this);
    text->setObjectName(QStringLiteral("welcomeText"));
    text->setWordWrap(true);
    text->setAlignment(Qt::AlignCenter);
    text->setMinimumWidth(560);
    text->setMaximumWidth(680);
    auto *textRow = new QHBoxLayout;
    textRow->addStretch(1);
    textRow->addWidget(text);
    textRow->addStretch(1);
    outer->addLayout(textRow);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    m_example = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Run an &example"), this);
    m_example->setObjectName(QStringLiteral("runExampleButton"));
    m_example->setDefault(true);
    m_example->setMinimumHeight(36);
    m_newJob = new QPushButton(style()->standardIcon(QStyle::SP_FileIcon), tr("&New job…"), this);
    m_newJob->setObjectName(QStringLiteral("welcomeNewJobButton"));
    m_newJob->setMinimumHeight(36);
    buttons->addWidget(m_example);
    buttons->addSpacing(12);
    buttons->addWidget(m_newJob);
    buttons->addStretch(1);
    outer->addLayout(buttons);
    auto *api = new QLabel(tr("Scripts can submit jobs too: the Python SDK and curl reach this window over its local HTTP API "
                              "(Settings shows the address, the key and ready-to-paste snippets)."),
                           this);
    api->setWordWrap(true);
    api->setAlignment(Qt::AlignCenter);
    api->setEnabled(false);
    outer->addSpacing(16);
    outer->addWidget(api);
    outer->addStretch(2);
    connect(m_example, &QPushButton::clicked, this, &WelcomePage::runExampleRequested);
    connect(m_newJob, &QPushButton::clicked, this, &WelcomePage::newJobRequested);
}

} // namespace magpie::ui
