"""Run by a real QGIS desktop window under Xvfb (see test_gui_qgis_window.py).

Steps are chosen by S2CC_GUI_STEPS; each writes screenshots to S2CC_GUI_OUT and its findings to
S2CC_GUI_OUT/result.json, which the test reads. QGIS quits when the steps are done.
"""

import json
import os
import traceback

from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QEventLoop, QTimer
from qgis.utils import active_plugins, iface

OUT = os.environ['S2CC_GUI_OUT']
STEPS = os.environ['S2CC_GUI_STEPS'].split(',')
CONFIG = json.loads(os.environ.get('S2CC_GUI_CONFIG', '{}'))
RESULT = {'errors': []}


def wait(milliseconds):
    """Let QGIS paint and process events for a while."""
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec_()


def grab(widget, name):
    """Save a screenshot of a widget and record its path."""
    path = os.path.join(OUT, name)
    widget.grab().save(path)
    RESULT.setdefault('screenshots', []).append(path)


def toolbox():
    """The Processing toolbox filtered on our provider, with its icon."""
    from qgis.PyQt.QtWidgets import QDockWidget

    dock = iface.mainWindow().findChild(QDockWidget, 'ProcessingToolbox')
    dock.setVisible(True)
    dock.searchBox.setText('S2 Cloud CNN')
    wait(1500)
    tree = dock.algorithmTree
    tree.expandAll()
    model = tree.model()
    names = []
    for row in range(model.rowCount()):
        names.append(model.index(row, 0).data())
    RESULT['toolbox_top_level'] = names
    dock.resize(450, 700)
    wait(500)
    grab(dock, 'toolbox.png')


def algorithm_dialog():
    """The Detect clouds dialog with its help panel."""
    import processing

    dialog = processing.createAlgorithmDialog('s2cloudcnn:detectclouds', {})
    dialog.resize(1100, 750)
    dialog.show()
    wait(1500)
    RESULT['dialog_title'] = dialog.windowTitle()
    grab(dialog, 'detect_dialog.png')
    dialog.close()


def batch_detect():
    """Detect clouds over several inputs through the batch dialog's own run loop."""
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from processing.tools import dataobjects

    algorithm = QgsApplication.processingRegistry().createAlgorithmById('s2cloudcnn:detectclouds')
    dialog = BatchAlgorithmDialog(algorithm, iface.mainWindow())
    panel = dialog.mainWidget()
    inputs, outputs = CONFIG['batch_inputs'], CONFIG['batch_outputs']
    panel.addRow(len(inputs) - panel.batchRowCount())
    panel.checkLoadLayersOnCompletion.setChecked(True)
    input_column = panel.parameter_to_column['INPUT']
    output_column = panel.parameter_to_column['OUTPUT']
    context = dataobjects.createContext()
    for row, (source, target) in enumerate(zip(inputs, outputs)):
        panel.wrappers[row][input_column].setParameterValue(source, context)
        panel.tblParameters.cellWidget(row + 1, output_column).setValue(target)
    dialog.show()
    wait(500)
    dialog.runAlgorithm()
    wait(1000)
    grab(dialog, 'batch_detect.png')
    from qgis.PyQt.QtWidgets import QTextEdit

    RESULT['batch_log'] = '\n'.join(edit.toPlainText() for edit in dialog.findChildren(QTextEdit)
                                    if 'Batch execution completed' in edit.toPlainText())
    loaded = {}
    for layer in QgsProject.instance().mapLayers().values():
        loaded[layer.source()] = layer.renderer().type() if layer.renderer() else None
    RESULT['batch_loaded_layers'] = loaded
    dialog.close()


def summary_dialog_and_batch():
    """Summarise evaluations: its methods table in the dialog, then one run per batch row."""
    import processing
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from processing.tools import dataobjects
    from qgis.PyQt.QtWidgets import QTextEdit

    summary_id = 's2cloudcnn:summarizeevaluations'
    dialog = processing.createAlgorithmDialog(summary_id, CONFIG['summary_dialog'])
    dialog.resize(1100, 750)
    dialog.show()
    wait(1500)
    values = dialog.mainWidget().createProcessingParameters()
    RESULT['summary_dialog_values'] = {name: values.get(name) for name in CONFIG['summary_dialog']}
    grab(dialog, 'summary_dialog.png')
    dialog.close()
    batch = BatchAlgorithmDialog(
        QgsApplication.processingRegistry().createAlgorithmById(summary_id), iface.mainWindow())
    panel = batch.mainWidget()
    rows = CONFIG['summary_batch']
    panel.addRow(len(rows) - panel.batchRowCount())
    context = dataobjects.createContext()
    for row, row_values in enumerate(rows):
        for name, value in row_values.items():
            column = panel.parameter_to_column[name]
            if name.endswith('_CSV'):
                panel.tblParameters.cellWidget(row + 1, column).setValue(value)
            else:
                panel.wrappers[row][column].setParameterValue(value, context)
    batch.show()
    wait(500)
    batch.runAlgorithm()
    wait(1000)
    RESULT['summary_batch_log'] = '\n'.join(
        edit.toPlainText() for edit in batch.findChildren(QTextEdit)
        if 'Batch execution completed' in edit.toPlainText())
    batch.close()


def _over_rgb(stack, overlay, name, screenshot):
    """Show a styled mask over the stack's RGB on the canvas; return (mask layer, canvas)."""
    from qgis.core import QgsContrastEnhancement, QgsMultiBandColorRenderer, QgsRasterMinMaxOrigin

    project = QgsProject.instance()
    project.removeAllMapLayers()
    rgb = QgsRasterLayer(stack, 'Reflectance stack (B04 B03 B02)')
    rgb.setRenderer(QgsMultiBandColorRenderer(rgb.dataProvider(), 4, 3, 2))
    rgb.setContrastEnhancement(QgsContrastEnhancement.StretchToMinimumMaximum,
                               QgsRasterMinMaxOrigin.CumulativeCut)
    mask = QgsRasterLayer(overlay, name)
    project.addMapLayer(rgb)
    project.addMapLayer(mask)  # added last, drawn on top
    canvas = iface.mapCanvas()
    canvas.setDestinationCrs(rgb.crs())
    canvas.setExtent(mask.extent())
    iface.mainWindow().resize(1400, 900)
    canvas.refreshAllLayers()
    wait(4000)
    grab(iface.mainWindow(), screenshot)
    return mask, canvas


def _samples(canvas, predicate):
    """Canvas pixels (every third row and column) whose colour satisfies `predicate`."""
    image = canvas.grab().toImage()
    return sum(1 for y in range(0, image.height(), 3) for x in range(0, image.width(), 3)
               if predicate(image.pixelColor(x, y)))


def styled_mask_on_map():
    """The RGB of the scene with the styled cloud mask over it, as an analyst sees it."""
    mask, canvas = _over_rgb(CONFIG['map_stack'], CONFIG['map_mask'], 'Cloud mask',
                             'mask_on_map.png')
    RESULT['map_mask_renderer'] = mask.renderer().type()
    RESULT['map_magenta_samples'] = _samples(
        canvas, lambda c: c.red() > 150 and c.blue() > 150 and c.green() < 120)


def cloud_shadow_on_map():
    """The RGB with the styled cloud and shadow mask over it (the README's screenshot)."""
    mask, canvas = _over_rgb(CONFIG['shadow_stack'], CONFIG['shadow_mask'],
                             'Cloud and shadow mask', 'cloud_shadow_on_map.png')
    RESULT['shadow_mask_renderer'] = mask.renderer().type()
    RESULT['map_cyan_samples'] = _samples(
        canvas, lambda c: c.red() < 120 and c.green() > 150 and c.blue() > 150)


def outputs_loaded_after_runs():
    """Stack, detect (with probability) and evaluate as the dialog runs them: load + style."""
    import processing

    QgsProject.instance().removeAllMapLayers()
    folder = CONFIG['run_folder']
    stack = processing.runAndLoadResults('s2cloudcnn:stackl1c', {
        'INPUT': CONFIG['product'], 'EXTENT': CONFIG['extent'],
        'OUTPUT': os.path.join(folder, 'stack.tif')})['OUTPUT']
    detected = processing.runAndLoadResults('s2cloudcnn:detectclouds', {
        'INPUT': stack, 'OUTPUT': os.path.join(folder, 'z_mask.tif'),
        'PROBABILITY': os.path.join(folder, 'a_probability.tif')})
    processing.runAndLoadResults('s2cloudcnn:evaluatemask', {
        'PREDICTION': detected['OUTPUT'], 'GROUND_TRUTH': CONFIG['truth'],
        'GROUND_TRUTH_CLASSES': 0, 'ERROR_MAP': os.path.join(folder, 'errors.tif')})
    wait(1000)
    order, renderers = [], {}
    for node in QgsProject.instance().layerTreeRoot().findLayers():  # top first
        layer = node.layer()
        order.append(os.path.basename(layer.source()))
        renderer = layer.renderer()
        entry = {'type': renderer.type()}
        if renderer.type() == 'multibandcolor':
            entry['bands'] = [renderer.redBand(), renderer.greenBand(), renderer.blueBand()]
        if renderer.type() == 'paletted':
            entry['classes'] = {str(int(c.value)): [c.color.name(), c.color.alpha(), c.label]
                                for c in renderer.classes()}
        renderers[os.path.basename(layer.source())] = entry
    RESULT['loaded_order'] = order
    RESULT['loaded_renderers'] = renderers
    canvas = iface.mapCanvas()
    canvas.setExtent(QgsRasterLayer(stack, 'extent').extent())
    iface.mainWindow().resize(1400, 900)
    canvas.refreshAllLayers()
    wait(3000)
    grab(iface.mainWindow(), 'map_after_run.png')


def model_designer():
    """The shipped workflow model open in the Model Designer."""
    from processing.modeler.ModelerDialog import ModelerDialog

    model = QgsApplication.processingRegistry().createAlgorithmById('s2cloudcnn:l1ccloudmask')
    dialog = ModelerDialog.create(model)
    dialog.resize(1300, 850)
    dialog.show()
    wait(2000)
    RESULT['designer_valid'] = model.validate()[0]
    grab(dialog, 'model_designer.png')
    dialog.close()


def install_from_zip():
    """Install the plugin zip with QGIS's own plugin installer ("Install from ZIP")."""
    import pyplugin_installer
    import qgis.utils

    pyplugin_installer.instance().installFromZipFile(CONFIG['zip'])
    wait(1500)
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById('s2cloudcnn')
    RESULT['installed_into'] = qgis.utils.home_plugin_path
    RESULT['active_plugins'] = sorted(active_plugins)
    algorithms = provider.algorithms() if provider else []
    RESULT['provider_algorithms'] = sorted(algorithm.id() for algorithm in algorithms)


def close_unexpected_dialogs():
    """Record and close any modal dialog (an error box would otherwise block QGIS forever)."""
    from qgis.PyQt.QtWidgets import QApplication

    dialog = QApplication.activeModalWidget()
    if dialog is not None:
        texts = [getattr(child, 'text', lambda: '')() for child in dialog.findChildren(object)
                 if hasattr(child, 'text') and callable(child.text)]
        RESULT['errors'].append(f'modal dialog {dialog.windowTitle()!r}: '
                                + ' '.join(t for t in texts if isinstance(t, str))[:2000])
        dialog.reject()


WATCHDOG = QTimer()
WATCHDOG.timeout.connect(close_unexpected_dialogs)
WATCHDOG.start(1000)


def main():
    """Run the requested steps, record errors, quit QGIS."""
    for step in STEPS:
        try:
            globals()[step]()
        except Exception:  # noqa: BLE001 - reported to the test, which fails on it
            RESULT['errors'].append(f'{step}: {traceback.format_exc()}')
    with open(os.path.join(OUT, 'result.json'), 'w', encoding='utf-8') as handle:
        json.dump(RESULT, handle, indent=1)
    QgsApplication.exit(0)


QTimer.singleShot(3000, main)
