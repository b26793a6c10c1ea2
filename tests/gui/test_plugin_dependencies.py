"""In QGIS: the package folder joins sys.path at load, and the menu action installs onnxruntime."""

import json
import os
import subprocess
import textwrap

from conftest import QGIS_HOME

PLUGIN_PARENT = os.path.join(QGIS_HOME, 'plugins')
QGIS_PYTHON = '/usr/bin/python3'  # QGIS's own interpreter: no venv, so no onnxruntime yet

# Runs in its own QGIS: the session provider of other tests has the same id, and the
# interpreter must be QGIS's bare one for the install to mean anything.
SCRIPT = textwrap.dedent(f"""
    import json, shutil, sys, time, unittest.mock
    sys.modules['mock'] = unittest.mock  # qgis.testing.mocked wants the `mock` backport
    sys.path.insert(0, {PLUGIN_PARENT!r})
    from qgis.testing.mocked import get_iface  # QGIS's own interface stand-in
    iface = get_iface()
    from qgis.core import QgsApplication
    from qgis.gui import QgsMessageBar
    from qgis.PyQt.QtWidgets import QMessageBox
    bar = QgsMessageBar()  # a real one: the calls on it must be valid QGIS API
    iface.messageBar.return_value = bar
    import s2cloudcnn
    from s2cloudcnn.algorithms.core import dependencies
    report = {{}}
    plugin = s2cloudcnn.classFactory(iface)
    folder = dependencies.package_folder(QgsApplication.qgisSettingsDirPath())
    report['folder_last_on_path'] = sys.path[-1] == folder
    report['hint_names_folder'] = folder in dependencies.install_hint()
    plugin.initGui()
    action = plugin.installer.action
    report['action'] = [action.text(), action.parent() is iface.mainWindow()]
    report['menu'] = [list(c.args) == ['S2 Cloud CNN', action]
                      for c in iface.addPluginToMenu.call_args_list]
    questions = []
    def answer_yes(box):  # the real dialog, only its modal loop replaced
        extra = box.checkBox()
        questions.append([box.text(), extra.text(), extra.isChecked()])
        return QMessageBox.StandardButton.Yes
    QMessageBox.exec = answer_yes

    def install():
        action.trigger()
        started = plugin.installer.task is not None
        shown = [item.text() for item in bar.items()]
        deadline = time.time() + 240
        while plugin.installer.task is not None and time.time() < deadline:
            QgsApplication.processEvents()
            time.sleep(0.05)
        messages = [[item.title(), item.text(), int(item.level())] for item in bar.items()]
        bar.clearWidgets()
        return started, shown, messages

    from qgis.core import QgsNetworkAccessManager
    from qgis.PyQt.QtNetwork import QNetworkProxy
    from s2cloudcnn.gui.dependency_installer import proxy_environment
    manager = QgsNetworkAccessManager.instance()
    report['no_proxy'] = proxy_environment()
    manager.setFallbackProxyAndExcludes(
        QNetworkProxy(QNetworkProxy.ProxyType.HttpProxy, 'proxy.example', 3128, 'ana', 'p@ss:w'),
        [], [])
    report['proxy'] = proxy_environment()
    manager.setFallbackProxyAndExcludes(QNetworkProxy(QNetworkProxy.ProxyType.NoProxy), [], [])

    def can_execute():  # what the toolbox asks before opening the dialog
        detect = QgsApplication.processingRegistry().algorithmById('s2cloudcnn:detectclouds')
        return list(detect.canExecute())
    report['can_execute_before'] = can_execute()

    choose = dependencies.onnxruntime_choice
    dependencies.onnxruntime_choice = lambda *args: ('s2cloudcnn-no-such-package', 'a test.')
    report['failed'] = install()
    dependencies.onnxruntime_choice = choose
    report['installed'] = install()
    report['question'] = questions
    report['can_execute_after'] = can_execute()
    import numpy, onnxruntime  # no restart: the folder was on sys.path before it existed
    report['onnxruntime'] = onnxruntime.__file__
    report['numpy'] = numpy.__file__
    plugin.unload()
    report['menu_removed'] = [list(c.args) == ['S2 Cloud CNN', action]
                              for c in iface.removePluginMenu.call_args_list]
    report['installer_gone'] = plugin.installer is None
    report['provider_gone'] = QgsApplication.processingRegistry().providerById(
        's2cloudcnn') is None
    report['folder'] = folder
    shutil.rmtree(folder)  # start_app's profile is temporary, the 30 MB need not stay
    print('REPORT', json.dumps(report))
""")


def test_plugin_load_menu_action_install_and_unload():
    result = subprocess.run([QGIS_PYTHON, '-c', SCRIPT], capture_output=True, text=True,
                            env={**os.environ, 'QT_QPA_PLATFORM': 'offscreen'}, timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith('REPORT ')]
    assert lines, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(lines[-1][len('REPORT '):])
    folder = report['folder']
    assert report['folder_last_on_path'] and report['hint_names_folder']
    assert report['action'] == ['Install Python dependencies…', True]
    assert report['menu'] == [True]
    assert report['no_proxy'] == {}
    url = 'http://ana:p%40ss%3Aw@proxy.example:3128'  # what pip gets from QGIS's proxy setting
    assert report['proxy'] == {'HTTP_PROXY': url, 'HTTPS_PROXY': url}
    critical, success = 2, 3  # Qgis.MessageLevel
    started, shown, messages = report['failed']
    assert started and shown == ['Installing s2cloudcnn-no-such-package …']
    (title, text, level), = messages
    assert (title, level) == ('S2 Cloud CNN', critical)
    assert 'pip failed' in text and 'pip install' in text
    started, shown, messages = report['installed']
    assert started and shown == ['Installing onnxruntime …']
    question, extra, ticked = report['question'][1]
    assert 'Install onnxruntime with pip into' in question and folder in question
    # scikit-learn is offered, unticked while the package folder has none.
    assert extra.startswith('Also install scikit-learn 1.6.1') and not ticked
    (title, text, level), = messages  # the progress item is gone
    assert (title, level) == ('S2 Cloud CNN', success)
    assert f'installed into {folder}' in text and 'can use it now' in text
    assert 'scikit-learn' not in text
    ok, message = report['can_execute_before']
    assert not ok and 'Install Python dependencies' in message and folder in message
    assert report['can_execute_after'][0] is True  # in the same session, no restart
    assert report['onnxruntime'].startswith(folder + '/onnxruntime/')
    assert report['numpy'].startswith('/usr/lib/python3/dist-packages/numpy/')
    assert report['menu_removed'] == [True]
    assert report['installer_gone'] and report['provider_gone']
