#include "FileBrowser.h"

#include "DialogPlacement.h"
#include "FolderCache.h"
#include "MessageBox.h"
#include "UiFormat.h"

#include <QDialogButtonBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QStyle>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace magpie::ui {

FileBrowser::FileBrowser(Executor &executor, QString workspaceId, FolderCache *cache, QWidget *parent)
    : QDialog(parent), m_ex(executor), m_id(std::move(workspaceId)), m_cache(cache)
{
    setObjectName(QStringLiteral("fileBrowser"));
    setWindowTitle(tr("Files in workspace %1").arg(m_id));
    resize(720, 480);
    auto *v = new QVBoxLayout(this);
    m_title = new QLabel(tr("<b>%1</b> — the files its jobs see under <tt>/workspace</tt>").arg(m_id.toHtmlEscaped()), this);
    v->addWidget(m_title);
    m_tree = new QTreeWidget(this);
    m_tree->setObjectName(QStringLiteral("filesTree"));
    m_tree->setHeaderLabels({tr("Name"), tr("Size"), tr("Modified"), tr("Type")});
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_tree->header()->resizeSection(1, 90);
    m_tree->header()->resizeSection(2, 160);
    m_tree->header()->resizeSection(3, 70);
    v->addWidget(m_tree, 1);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("filesStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_busyBar = new QProgressBar(this);
    m_busyBar->setObjectName(QStringLiteral("filesBusy"));
    m_busyBar->setRange(0, 0); // busy: how long the VM takes is not known
    m_busyBar->setTextVisible(false);
    m_busyBar->setMaximumHeight(8);
    m_busyBar->hide();
    v->addWidget(m_busyBar);
    v->addWidget(m_status);
    auto *buttons = new QDialogButtonBox(this);
    m_download = buttons->addButton(tr("&Download…"), QDialogButtonBox::ActionRole);
    m_download->setObjectName(QStringLiteral("downloadButton"));
    m_download->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
    m_upload = buttons->addButton(tr("&Upload…"), QDialogButtonBox::ActionRole);
    m_upload->setObjectName(QStringLiteral("uploadButton"));
    m_upload->setIcon(style()->standardIcon(QStyle::SP_ArrowUp));
    m_upload->setToolTip(tr("Copy files from this computer into the selected folder (up to %1 each; or drop them on the list)")
                             .arg(formatBytes(Executor::maxUploadBytes())));
    m_delete = buttons->addButton(tr("De&lete…"), QDialogButtonBox::ActionRole);
    m_delete->setObjectName(QStringLiteral("deleteFileButton"));
    m_delete->setIcon(style()->standardIcon(QStyle::SP_TrashIcon));
    m_refresh = buttons->addButton(tr("&Refresh"), QDialogButtonBox::ActionRole);
    m_refresh->setIcon(style()->standardIcon(QStyle::SP_BrowserReload));
    buttons->addButton(QDialogButtonBox::Close);
    v->addWidget(buttons);

    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    connect(m_download, &QPushButton::clicked, this, &FileBrowser::downloadSelected);
    connect(m_refresh, &QPushButton::clicked, this, [this] { reload(); });
    connect(m_upload, &QPushButton::clicked, this, &FileBrowser::openUploadDialog);
    connect(m_delete, &QPushButton::clicked, this, &FileBrowser::deleteSelected);
    m_tree->viewport()->setAcceptDrops(true);
    m_tree->viewport()->installEventFilter(this);
    connect(m_tree, &QTreeWidget::itemExpanded, this, &FileBrowser::onExpanded);
    // Download follows the selection (not the current item, which a Ctrl+click leaves behind).
    connect(m_tree, &QTreeWidget::itemSelectionChanged, this, &FileBrowser::updateButtons);
    connect(m_tree, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem *item) {
        if (item && item->isSelected() && item->data(0, TypeRole).toString() == QLatin1String("file"))
            downloadSelected();
    });
    connect(&m_ex, &Executor::workspacesChanged, this, [this] {
        if (!m_ex.workspace(m_id))
            close(); // deleted
    });
    updateButtons();
    centreOnParentWindow(this);
    list(QString(), nullptr, true);
}

QString FileBrowser::selectedPath() const
{
    const QList<QTreeWidgetItem *> sel = m_tree->selectedItems();
    return sel.isEmpty() ? QString() : sel.first()->data(0, PathRole).toString();
}

QTreeWidgetItem *FileBrowser::itemFor(const QString &path) const
{
    QList<QTreeWidgetItem *> stack;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        stack << m_tree->topLevelItem(i);
    while (!stack.isEmpty()) {
        QTreeWidgetItem *it = stack.takeFirst();
        if (it->data(0, PathRole).toString() == path)
            return it;
        for (int i = 0; i < it->childCount(); ++i)
            stack << it->child(i);
    }
    return nullptr;
}

void FileBrowser::setBusy(int delta)
{
    m_busy = qMax(0, m_busy + delta);
    m_refresh->setEnabled(m_busy == 0);
    m_busyBar->setVisible(m_busy > 0);
    if (m_busy > 0 && delta > 0)
        setCursor(Qt::BusyCursor);
    else if (m_busy == 0)
        unsetCursor();
    if (m_busy > 0 && delta > 0)
        m_status->setText(tr("Reading the workspace… (a short VM run; it waits until the workspace's running or queued jobs are done)"));
}

void FileBrowser::reload(const QString &path)
{
    if (path.isEmpty()) {
        m_tree->clear();
        list(QString(), nullptr, false);
        return;
    }
    QTreeWidgetItem *it = itemFor(path);
    if (!it)
        return;
    qDeleteAll(it->takeChildren());
    it->setData(0, LoadedRole, false);
    list(path, it, false);
}

void FileBrowser::showListed(const QString &shown, const QList<FileEntry> &entries, qint64 cachedAgeMs)
{
    if (m_busy > 0)
        return;
    int files = 0;
    for (const FileEntry &e : entries)
        files += e.type != QLatin1String("dir");
    QString text = tr("%1: %2 folder(s), %3 file(s). Folders are read when you open them.").arg(shown).arg(entries.size() - files).arg(files);
    if (cachedAgeMs >= 0)
        text += QLatin1Char(' ') + tr("(Read %1 ago; Refresh reads it again.)").arg(formatDuration(cachedAgeMs));
    m_status->setText(text);
}

void FileBrowser::list(const QString &path, QTreeWidgetItem *parentItem, bool useCache)
{
    const QString shown = path.isEmpty() ? QStringLiteral("/workspace") : QStringLiteral("/workspace/") + path;
    if (useCache && m_cache) {
        if (const auto cached = m_cache->get(m_id, path)) {
            fill(parentItem, *cached);
            showListed(shown, *cached, m_cache->ageMs(m_id, path));
            QMetaObject::invokeMethod(this, [this, path] { emit listed(path); }, Qt::QueuedConnection);
            return;
        }
    }
    if (parentItem) {
        parentItem->setData(0, LoadingRole, true);
        if (parentItem->childCount() == 0) {
            auto *ph = new QTreeWidgetItem(parentItem, {tr("Loading…")});
            ph->setDisabled(true);
        }
    }
    setBusy(+1);
    QPointer<FileBrowser> self(this);
    QPointer<FolderCache> cache(m_cache);
    const QString id = m_id;
    m_ex.listFiles(m_id, path, [self, cache, id, path, shown](std::optional<ExecError> err, QList<FileEntry> entries) {
        if (!err && cache)
            cache->put(id, path, entries);
        if (!self)
            return;
        self->setBusy(-1);
        QTreeWidgetItem *parentItem = path.isEmpty() ? nullptr : self->itemFor(path);
        if (!path.isEmpty() && !parentItem)
            return; // the tree was reloaded meanwhile
        if (parentItem)
            parentItem->setData(0, LoadingRole, false);
        if (err) {
            if (parentItem) {
                qDeleteAll(parentItem->takeChildren());
                auto *e = new QTreeWidgetItem(parentItem, {tr("Could not list: %1").arg(err->message)});
                e->setDisabled(true);
            }
            self->m_status->setText(tr("Could not list %1: %2").arg(shown, err->message));
            emit self->listFailed(path, err->message);
            return;
        }
        self->fill(parentItem, entries);
        self->showListed(shown, entries, -1);
        emit self->listed(path);
    });
}

void FileBrowser::fill(QTreeWidgetItem *parentItem, const QList<FileEntry> &entries)
{
    if (parentItem) {
        qDeleteAll(parentItem->takeChildren());
        parentItem->setData(0, LoadedRole, true);
    }
    QList<QTreeWidgetItem *> items;
    for (const FileEntry &e : entries) {
        auto *it = new QTreeWidgetItem;
        const bool dir = e.type == QLatin1String("dir");
        it->setText(0, e.name);
        it->setText(1, dir ? QString() : formatBytes(e.size));
        it->setText(2, formatLocalTime(e.modifiedAt));
        it->setText(3, e.type);
        it->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
        it->setData(0, PathRole, e.path);
        it->setData(0, TypeRole, e.type);
        it->setData(0, SizeRole, e.size);
        it->setIcon(0, style()->standardIcon(dir ? QStyle::SP_DirIcon : e.type == QLatin1String("symlink") ? QStyle::SP_FileLinkIcon : QStyle::SP_FileIcon));
        it->setToolTip(0, QStringLiteral("/workspace/") + e.path);
        if (dir)
            it->setChildIndicatorPolicy(QTreeWidgetItem::ShowIndicator);
        items << it;
    }
    if (items.isEmpty() && parentItem) {
        auto *ph = new QTreeWidgetItem(parentItem, {tr("(empty folder)")});
        ph->setDisabled(true);
        return;
    }
    if (parentItem)
        parentItem->addChildren(items);
    else
        m_tree->addTopLevelItems(items);
    if (!parentItem && items.isEmpty()) {
        auto *ph = new QTreeWidgetItem(m_tree, {tr("(the workspace is empty)")});
        ph->setDisabled(true);
    }
}

void FileBrowser::onExpanded(QTreeWidgetItem *item)
{
    if (!item || item->data(0, TypeRole).toString() != QLatin1String("dir"))
        return;
    if (item->data(0, LoadedRole).toBool() || item->data(0, LoadingRole).toBool())
        return;
    list(item->data(0, PathRole).toString(), item, true);
}

void FileBrowser::updateButtons()
{
    const QList<QTreeWidgetItem *> sel = m_tree->selectedItems();
    QTreeWidgetItem *it = sel.isEmpty() ? nullptr : sel.first();
    const bool file = it && it->data(0, TypeRole).toString() == QLatin1String("file");
    m_download->setEnabled(file);
    m_delete->setEnabled(it != nullptr && !it->data(0, PathRole).toString().isEmpty());
    m_delete->setToolTip(m_delete->isEnabled() ? tr("Delete /workspace/%1 (asks first)").arg(it->data(0, PathRole).toString())
                                               : tr("Select a file or folder to delete it"));
    m_download->setToolTip(file ? tr("Save a copy of %1 on this computer").arg(it->data(0, PathRole).toString())
                                : tr("Select a file to download it"));
}

void FileBrowser::downloadSelected()
{
    const QList<QTreeWidgetItem *> sel = m_tree->selectedItems();
    QTreeWidgetItem *it = sel.isEmpty() ? nullptr : sel.first();
    if (!it || it->data(0, TypeRole).toString() != QLatin1String("file"))
        return;
    const QString path = it->data(0, PathRole).toString();
    const qint64 size = it->data(0, SizeRole).toLongLong();
    if (size > Executor::maxFileBytes()) {
        m_status->setText(tr("%1 is %2; files up to %3 can be downloaded here.").arg(path, formatBytes(size), formatBytes(Executor::maxFileBytes())));
        return;
    }
    const QString target = QFileDialog::getSaveFileName(this, tr("Save %1").arg(QFileInfo(path).fileName()),
                                                        QDir::home().filePath(QFileInfo(path).fileName()));
    if (target.isEmpty())
        return;
    download(path, target);
}

void FileBrowser::download(const QString &path, const QString &localFile)
{
    setBusy(+1);
    m_status->setText(tr("Reading %1 from the workspace…").arg(path));
    QPointer<FileBrowser> self(this);
    m_ex.readFile(m_id, path, [self, path, localFile](std::optional<ExecError> err, QByteArray data) {
        if (!self)
            return;
        self->setBusy(-1);
        if (err) {
            self->m_status->setText(tr("Could not read %1: %2").arg(path, err->message));
            emit self->downloadFailed(path, err->message);
            return;
        }
        QSaveFile f(localFile);
        if (!f.open(QIODevice::WriteOnly) || f.write(data) != data.size() || !f.commit()) {
            const QString why = f.errorString();
            self->m_status->setText(tr("Could not write %1: %2").arg(localFile, why));
            emit self->downloadFailed(path, why);
            return;
        }
        self->m_status->setText(tr("Saved %1 (%2) to %3.").arg(path, formatBytes(data.size()), localFile));
        emit self->downloaded(path, localFile);
    });
}

// ---------------------------------------------------------------- upload and delete
QString FileBrowser::uploadFolder() const
{
    const QList<QTreeWidgetItem *> sel = m_tree->selectedItems();
    if (sel.isEmpty())
        return QString();
    const QString path = sel.first()->data(0, PathRole).toString();
    if (sel.first()->data(0, TypeRole).toString() == QLatin1String("dir"))
        return path;
    const int slash = path.lastIndexOf(QLatin1Char('/'));
    return slash < 0 ? QString() : path.left(slash);
}

void FileBrowser::openUploadDialog()
{
    if (!m_uploadDialog) {
        m_uploadDialog = new QFileDialog(this, tr("Upload to workspace %1").arg(m_id), QDir::homePath());
        m_uploadDialog->setObjectName(QStringLiteral("uploadFileDialog"));
        m_uploadDialog->setOption(QFileDialog::DontUseNativeDialog);
        m_uploadDialog->setFileMode(QFileDialog::ExistingFiles);
        connect(m_uploadDialog, &QFileDialog::filesSelected, this, [this](const QStringList &files) {
            upload(files, m_uploadDialog->property("folder").toString());
        });
    }
    m_uploadDialog->setProperty("folder", uploadFolder());
    m_uploadDialog->setLabelText(QFileDialog::Accept, tr("Upload"));
    m_uploadDialog->open();
}

void FileBrowser::upload(const QStringList &localFiles, const QString &folder)
{
    for (const QString &local : localFiles) {
        QFileInfo fi(local);
        if (!fi.isFile()) {
            MessageBox::warning(this, tr("Cannot upload"), tr("%1 is not a file.").arg(local),
                                tr("Only files can be uploaded; folders are not copied."));
            continue;
        }
        if (fi.size() > Executor::maxUploadBytes()) {
            MessageBox::warning(this, tr("File too large"), tr("%1 is %2.").arg(fi.fileName(), formatBytes(fi.size())),
                                tr("Files up to %1 can be uploaded here; nothing was changed.").arg(formatBytes(Executor::maxUploadBytes())));
            continue;
        }
        QFile f(local);
        if (!f.open(QIODevice::ReadOnly)) {
            MessageBox::warning(this, tr("Cannot upload"), tr("Cannot read %1: %2").arg(local, f.errorString()));
            continue;
        }
        const QByteArray data = f.readAll();
        const QString target = folder.isEmpty() ? fi.fileName() : folder + QLatin1Char('/') + fi.fileName();
        setBusy(+1);
        m_status->setText(tr("Uploading %1 (%2) to /workspace/%3…").arg(fi.fileName(), formatBytes(data.size()), target));
        QPointer<FileBrowser> self(this);
        m_ex.writeFile(m_id, target, data, [self, target, folder](bool ok, const ExecError &e, const QJsonObject &) {
            if (!self)
                return;
            self->setBusy(-1);
            if (!ok) {
                self->m_status->setText(tr("Could not upload %1: %2").arg(target, e.message));
                MessageBox::warning(self, tr("Upload failed"), tr("Could not upload %1.").arg(target), e.message);
                emit self->operationFailed(target, e.message);
                return;
            }
            self->m_status->setText(tr("Uploaded /workspace/%1.").arg(target));
            self->refreshFolder(folder);
            emit self->uploaded(target);
        });
    }
}

void FileBrowser::deleteSelected()
{
    const QList<QTreeWidgetItem *> sel = m_tree->selectedItems();
    if (sel.isEmpty())
        return;
    const QString path = sel.first()->data(0, PathRole).toString();
    if (path.isEmpty())
        return;
    const bool dir = sel.first()->data(0, TypeRole).toString() == QLatin1String("dir");
    const QString lost = dir ? tr("The folder /workspace/%1 and everything in it will be deleted for good.").arg(path)
                             : tr("/workspace/%1 (%2) will be deleted for good.").arg(path, formatBytes(sel.first()->data(0, SizeRole).toLongLong()));
    if (MessageBox::confirm(this, QStringLiteral("confirmDeleteFile"), tr("Delete from the workspace"),
                            tr("Delete %1?").arg(path), lost + QLatin1Char(' ') + tr("A snapshot taken before keeps it."),
                            tr("Delete")) != MessageBox::Action)
        return;
    const int slash = path.lastIndexOf(QLatin1Char('/'));
    const QString folder = slash < 0 ? QString() : path.left(slash);
    setBusy(+1);
    QPointer<FileBrowser> self(this);
    m_ex.deleteFile(m_id, path, [self, path, folder](bool ok, const ExecError &e, const QJsonObject &) {
        if (!self)
            return;
        self->setBusy(-1);
        if (!ok) {
            self->m_status->setText(tr("Could not delete %1: %2").arg(path, e.message));
            MessageBox::warning(self, tr("Delete failed"), tr("Could not delete %1.").arg(path), e.message);
            emit self->operationFailed(path, e.message);
            return;
        }
        self->m_status->setText(tr("Deleted /workspace/%1.").arg(path));
        self->refreshFolder(folder);
        emit self->deleted(path);
    });
}

void FileBrowser::refreshFolder(const QString &folder)
{
    if (m_cache)
        m_cache->invalidate(m_id);
    if (folder.isEmpty() || !itemFor(folder))
        reload();
    else
        reload(folder);
}

bool FileBrowser::eventFilter(QObject *watched, QEvent *event)
{
    if (watched != m_tree->viewport())
        return QDialog::eventFilter(watched, event);
    if (event->type() == QEvent::DragEnter || event->type() == QEvent::DragMove) {
        auto *d = static_cast<QDropEvent *>(event);
        if (d->mimeData()->hasUrls()) {
            d->acceptProposedAction();
            return true;
        }
    } else if (event->type() == QEvent::Drop) {
        auto *d = static_cast<QDropEvent *>(event);
        QStringList files;
        for (const QUrl &u : d->mimeData()->urls())
            if (u.isLocalFile())
                files << u.toLocalFile();
        if (files.isEmpty())
            return false;
        d->acceptProposedAction();
        QString folder;
        if (QTreeWidgetItem *it = m_tree->itemAt(d->position().toPoint())) {
            const QString p = it->data(0, PathRole).toString();
            if (it->data(0, TypeRole).toString() == QLatin1String("dir"))
                folder = p;
            else if (p.contains(QLatin1Char('/')))
                folder = p.left(p.lastIndexOf(QLatin1Char('/')));
        }
        upload(files, folder);
        return true;
    }
    return QDialog::eventFilter(watched, event);
}

} // namespace magpie::ui
