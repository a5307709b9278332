// ScreenshotTour.h — a hidden mode for packaging/screenshots.sh (--screenshot-dir DIR): when
// DIR/take appears (a JSON object naming the jobs and workspace to show), the window walks
// through its views, saves each as DIR/<name>.png (QWidget::grab, so no window manager is
// needed), writes DIR/done and quits. Nothing here runs unless that option is given.
//
// DIR/take: {"job": id, "running_job": id, "failed_job": id, "workspace": id,
//            "browse_workspace": id, "theme_dark": true}
//        or, on an empty history: {"first_run": true, "build_image": true} — the welcome page
//        with the image banner (first-run.png), then "Build now" pressed and the window shot
//        while it builds (image-building.png) and after (image-built.png).
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>
#include <functional>

namespace magpie {
class Executor;
}

namespace magpie::ui {

class MainWindow;

class ScreenshotTour : public QObject
{
    Q_OBJECT
public:
    ScreenshotTour(MainWindow &window, Executor &executor, QString dir, QObject *parent = nullptr);

private:
    using Step = std::function<void(std::function<void()> next)>;
    void poll();
    void start();
    void runStep(int i);
    void save(QWidget *w, const QString &name);
    void log(const QString &text);

    MainWindow &m_window;
    Executor &m_ex;
    QString m_dir;
    QJsonObject m_spec;
    QTimer m_poll;
    QList<Step> m_steps;
};

} // namespace magpie::ui
