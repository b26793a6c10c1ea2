"""Plugins menu action: install onnxruntime (scikit-learn if ticked) in a QgsTask."""

import sys
import traceback
from urllib.parse import quote

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsNetworkAccessManager, QgsTask
from qgis.PyQt.QtNetwork import QNetworkProxy
from qgis.PyQt.QtWidgets import QCheckBox, QMessageBox, QProgressBar, QPushButton

from ..algorithms.core import dependencies
from ..algorithms.core.errors import CancelledError, S2CloudCnnError
from ..algorithms.support.base import tr
from . import installer

try:
    from qgis.PyQt.QtGui import QAction  # Qt6 (QGIS 4)
except ImportError:
    from qgis.PyQt.QtWidgets import QAction  # Qt5 (QGIS 3)

TITLE = 'S2 Cloud CNN'
DOWNLOAD_SIZE = {'onnxruntime': 'about 30 MB', 'onnxruntime-gpu': 'a few hundred MB'}


class InstallTask(QgsTask):
    """Runs the pip install off the GUI thread; QGIS shows it in the task manager too."""

    def __init__(self, folder, package, on_finished, environment=None, scikit_learn=False):
        super().__init__(tr('Installing {} for S2 Cloud CNN').format(package),
                         QgsTask.Flag.CanCancel)
        self.folder = folder
        self.package = package
        self.on_finished = on_finished
        self.environment = environment
        self.scikit_learn = scikit_learn
        self.result = None
        self.error = None
        self.cancelled = False
        self.lines = []

    def run(self):
        """Install; runs in a worker thread, so it only records what happened."""
        try:
            self.result = installer.install_onnxruntime(
                self.folder, on_line=self._log, is_canceled=self.isCanceled,
                progress=self.setProgress, package=self.package, environment=self.environment,
                scikit_learn=self.scikit_learn)
        except CancelledError as error:
            self.cancelled, self.error = True, str(error)
        except S2CloudCnnError as error:
            self.error = str(error)
        except Exception as error:  # a worker thread: nothing above it would show the error
            self._log(traceback.format_exc())
            self.error = tr('The installation failed unexpectedly ({}); the Log Messages panel '
                            'has the details.').format(error)
        return self.result is not None and self.result.success

    def _log(self, line):
        """Keep a line of pip's output and show it in the Log Messages panel."""
        self.lines.append(line)
        QgsMessageLog.logMessage(line, TITLE, Qgis.MessageLevel.Info)

    def finished(self, result):
        """Hand over to the GUI; QGIS calls this in the main thread."""
        self.on_finished(self)


class DependencyInstaller:
    """The menu action, its confirmation, the install task and the message bar feedback."""

    def __init__(self, iface, folder):
        self.iface = iface
        self.folder = folder
        self.task = None
        self.progress_item = None
        self.action = QAction(tr(dependencies.ACTION_TEXT), iface.mainWindow())
        self.action.setObjectName('s2cloudcnnInstallDependencies')
        self.action.setToolTip(tr('Install onnxruntime, which S2 Cloud CNN needs to run models, '
                                  'and optionally scikit-learn (Build cloud reference)'))
        self.action.triggered.connect(lambda _checked=False: self.start())
        iface.addPluginToMenu(dependencies.MENU, self.action)

    def unload(self):
        """Remove the menu entry; a running install is cancelled (its folder stays as it was)."""
        if self.task is not None:
            self.task.cancel()
        self.iface.removePluginMenu(dependencies.MENU, self.action)
        self.action.deleteLater()
        self.action = None

    def start(self, confirm=True):
        """Ask, then install in the background; returns the task, or None when not started."""
        if self.task is not None:
            self._message(tr('The installation is already running.'), Qgis.MessageLevel.Info)
            return None
        package, reason = dependencies.onnxruntime_choice()
        QgsMessageLog.logMessage(tr('Installing {} because {}').format(package, reason), TITLE,
                                 Qgis.MessageLevel.Info)
        scikit_learn = self._scikit_learn_in_folder()
        if confirm:
            confirmed, scikit_learn = self._confirmed(package, scikit_learn)
            if not confirmed:
                return None
        self.task = InstallTask(self.folder, package, self._finished, proxy_environment(),
                                scikit_learn)
        self._show_progress(package)
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def _scikit_learn_in_folder(self):
        """Whether the package folder holds scikit-learn (a new install replaces the folder)."""
        location = dependencies.scikit_learn_status().location
        return bool(location) and installer.inside(location, self.folder)

    def _confirmed(self, package, scikit_learn):
        """Ask the user before downloading anything; return (yes, with scikit-learn)."""
        status = dependencies.onnxruntime_status()
        present = (tr('onnxruntime {} is already installed at {}.\n\n').format(
            status.version, status.location) if status.installed else '')
        question = present + tr(
            'Install {package} with pip into\n{folder}\n\nThis downloads {size} from PyPI. '
            "QGIS's own numpy is kept as it is.").format(
            package=package, folder=self.folder, size=DOWNLOAD_SIZE.get(package, 'it'))
        box = QMessageBox(QMessageBox.Icon.Question, tr('Install Python dependencies'), question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                          self.iface.mainWindow())
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        extra = QCheckBox(tr('Also install {} (only Build cloud reference needs it; about '
                             '12 MB more; it uses QGIS\'s scipy)').format(
            dependencies.SCIKIT_LEARN_REQUIREMENT.replace('==', ' ')))
        extra.setChecked(scikit_learn)  # unticked, one already in the folder would be removed
        box.setCheckBox(extra)
        answer = QMessageBox.StandardButton(box.exec())
        return answer == QMessageBox.StandardButton.Yes, extra.isChecked()

    def _show_progress(self, package):
        """Push a message bar item with a progress bar and a cancel button."""
        bar = self.iface.messageBar()
        item = bar.createMessage(TITLE, tr('Installing {} …').format(package))
        progress = QProgressBar()
        progress.setRange(0, 100)
        cancel = QPushButton(tr('Cancel'))
        cancel.clicked.connect(self.task.cancel)
        item.layout().addWidget(progress)
        item.layout().addWidget(cancel)
        self.task.progressChanged.connect(lambda value: _set_value(progress, value))
        bar.pushWidget(item, Qgis.MessageLevel.Info)
        self.progress_item = item

    def _finished(self, task):
        """Report the outcome in the message bar, with pip's log behind 'more'."""
        self.task = None
        if self.progress_item is not None:
            self.iface.messageBar().popWidget(self.progress_item)
            self.progress_item = None
        result = task.result
        if result is not None and result.success:
            dependencies.refresh_import_caches(self.folder)
            self._message(result.message + ' ' + restart_advice(), Qgis.MessageLevel.Success)
        elif task.cancelled:
            self._message(task.error, Qgis.MessageLevel.Warning)
        else:
            text = task.error or result.message
            self._message(text, Qgis.MessageLevel.Critical, '\n'.join(task.lines))

    def _message(self, text, level, details=None):
        """Push a message that stays until the user closes it."""
        if details:
            self.iface.messageBar().pushMessage(TITLE, text, details, level, 0)
        else:
            self.iface.messageBar().pushMessage(TITLE, text, level, 0)


def proxy_environment():
    """Give pip the HTTP proxy set in QGIS (Settings > Options > Network) as HTTP(S)_PROXY."""
    proxy = QgsNetworkAccessManager.instance().fallbackProxy()
    http = (QNetworkProxy.ProxyType.HttpProxy, QNetworkProxy.ProxyType.HttpCachingProxy)
    if proxy.type() not in http or not proxy.hostName():
        return {}  # no proxy, or the system's, which pip finds in the environment itself
    login = f'{quote(proxy.user(), safe="")}:{quote(proxy.password(), safe="")}@' \
        if proxy.user() else ''
    url = f'http://{login}{proxy.hostName()}:{proxy.port()}'
    return {'HTTP_PROXY': url, 'HTTPS_PROXY': url}


def restart_advice():
    """Say whether QGIS must be restarted: only if an onnxruntime is already loaded."""
    if 'onnxruntime' in sys.modules:
        return tr('Restart QGIS to use it: this session has already loaded an onnxruntime.')
    return tr('The algorithms can use it now.')


def _set_value(progress, value):
    """Move the progress bar, unless the user closed the message already."""
    try:
        progress.setValue(int(value))
    except RuntimeError:  # the C++ widget is gone with its message
        pass
