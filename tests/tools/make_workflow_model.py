"""Write resources/models/l1c_cloud_mask.model3, the graphical model shipped with the plugin.

Built with QGIS's own model API so that the file is exactly what the Model Designer would save:
Sentinel-2 L1C product -> stackl1c -> detectclouds -> (when a ground truth is given) evaluatemask.
Run it again after changing a parameter of those algorithms;
tests/algorithms/test_workflow_model.py checks that the committed file matches.
"""

import os
import sys

from qgis.core import (
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildDependency,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)
from qgis.core import (
    QgsProcessingModelChildParameterSource as Source,
)
from qgis.PyQt.QtCore import QPointF

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL_PATH = os.path.join(REPO, 'resources', 'models', 'l1c_cloud_mask.model3')
HAS_GROUND_TRUTH = 'ground truth given'
# The dialog's order: what to detect on, with what, then what to evaluate against.
# Components are centred on their position; the designer's canvas starts at 0, 0.
ORIGIN = QPointF(150, 60)
INPUT_ORDER = ('product', 'extent', 'model', 'threshold', 'ground_truth', 'ground_truth_classes')


def _add_input(model, parameter, x, y):
    component = QgsProcessingModelParameter(parameter.name())
    component.setPosition(ORIGIN + QPointF(x, y))
    model.addModelParameter(parameter, component)


def _child(child_id, algorithm_id, description, x, y, **sources):
    """A child step; every mandatory parameter not wired to an input gets its default.

    The Model Designer fills those in when a step is added; without them validate() lists them
    as unset and the designer draws the step red.
    """
    child = QgsProcessingModelChildAlgorithm(algorithm_id)
    child.setChildId(child_id)
    child.setDescription(description)
    child.setPosition(ORIGIN + QPointF(x, y))
    for name, source in sources.items():
        child.addParameterSources(name, [source])
    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    for definition in algorithm.parameterDefinitions():
        if (definition.name() not in sources and not definition.isDestination()
                and definition.defaultValue() is not None):
            child.addParameterSources(definition.name(),
                                      [Source.fromStaticValue(definition.defaultValue())])
    return child


def _outputs(child, **names):
    outputs = {}
    for parameter_name, (output_name, description, x_offset) in names.items():
        output = QgsProcessingModelOutput(output_name, description)
        output.setChildId(child.childId())
        output.setChildOutputName(parameter_name)
        output.setPosition(child.position() + QPointF(x_offset, 70))
        outputs[output_name] = output
    child.setModelOutputs(outputs)


def build_model():
    """Return the workflow as a QgsProcessingModelAlgorithm."""
    from algorithms.support.class_parameters import PRESET_LABELS
    from algorithms.support.model_choice import static_enum
    from algorithms.support.paths import bundled_model_ids
    from algorithms.support.qgis_compat import NUMBER_DOUBLE
    from algorithms.support.raster_or_product import PRODUCT_FILE_FILTER

    model = QgsProcessingModelAlgorithm('L1C cloud mask workflow', 'Workflows', 'workflows')
    model.setHelpContent({
        'SHORT_DESCRIPTION': 'Stack, detect clouds and, with a ground truth, evaluate the mask.',
        'ALG_DESC': (
            'From a Sentinel-2 L1C product to a styled cloud mask: stacks the 13 bands at 60 m, '
            'runs the CNN and, when a ground-truth raster is given, evaluates the mask against '
            'it (metrics in the HTML report and the model results).')})
    _add_input(model, QgsProcessingParameterFile(
        'product', 'Sentinel-2 L1C product (.zip, or MTD_MSIL1C.xml in a SAFE folder)',
        fileFilter=PRODUCT_FILE_FILTER), 0, 0)
    _add_input(model, QgsProcessingParameterExtent('extent', 'Only this extent', optional=True),
               250, 0)
    _add_input(model, static_enum(
        'model', 'Model (l1c13: 13 L1C bands at 60 m; rgbn, experimental: 10 m L2A B02-B04, B08)',
        bundled_model_ids()), 0, 75)
    _add_input(model, QgsProcessingParameterNumber(
        'threshold', "Cloud probability threshold (empty: the model's)",
        NUMBER_DOUBLE, optional=True, minValue=0.0, maxValue=1.0),
        250, 75)
    _add_input(model, QgsProcessingParameterRasterLayer(
        'ground_truth', 'Ground-truth raster to evaluate the mask against', optional=True),
        500, 0)
    _add_input(model, QgsProcessingParameterEnum(
        'ground_truth_classes', 'Ground-truth classes', options=list(PRESET_LABELS),
        defaultValue=1), 750, 0)
    model.setParameterOrder(list(INPUT_ORDER))

    stack = _child('stack', 's2cloudcnn:stackl1c', 'Stack L1C bands at 60 m', 100, 150,
                   INPUT=Source.fromModelParameter('product'),
                   EXTENT=Source.fromModelParameter('extent'))
    detect = _child('detect', 's2cloudcnn:detectclouds', 'Detect clouds (CNN)', 100, 300,
                    INPUT=Source.fromChildOutput('stack', 'OUTPUT'),
                    MODEL=Source.fromModelParameter('model'),
                    THRESHOLD=Source.fromModelParameter('threshold'))
    _outputs(detect, OUTPUT=('cloud_mask', 'Cloud mask', -80),
             PROBABILITY=('cloud_probability', 'Cloud probability', 80))
    branch = _child('has_ground_truth', 'native:condition', 'Ground truth given?', 500, 150)
    branch.setConfiguration({'conditions': [
        {'name': HAS_GROUND_TRUTH, 'expression': '@ground_truth IS NOT NULL'}]})
    evaluate = _child('evaluate', 's2cloudcnn:evaluatemask', 'Evaluate cloud mask', 500, 450,
                      PREDICTION=Source.fromChildOutput('detect', 'OUTPUT'),
                      GROUND_TRUTH=Source.fromModelParameter('ground_truth'),
                      GROUND_TRUTH_CLASSES=Source.fromModelParameter('ground_truth_classes'))
    evaluate.setDependencies([QgsProcessingModelChildDependency('has_ground_truth',
                                                                HAS_GROUND_TRUTH)])
    _outputs(evaluate, ERROR_MAP=('error_map', 'Error map', -80),
             REPORT=('report', 'Evaluation report', 80))
    for child in (stack, detect, branch, evaluate):
        model.addChildAlgorithm(child)
    model.updateDestinationParameters()  # as the Model Designer does before saving
    return model


def main():
    """Write the model file (needs a running QGIS with our provider registered)."""
    os.makedirs(os.path.dirname(MODEL_PATH), exist_ok=True)
    if not build_model().toFile(MODEL_PATH):
        sys.exit(f'could not write {MODEL_PATH}')
    print(MODEL_PATH)


if __name__ == '__main__':
    from qgis.core import QgsApplication

    sys.path[:0] = [REPO, '/usr/share/qgis/python/plugins']
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    from algorithms.provider import S2CloudCnnProvider

    Processing.initialize()
    provider = S2CloudCnnProvider()  # held: the registry alone does not keep it alive
    QgsApplication.processingRegistry().addProvider(provider)
    main()
