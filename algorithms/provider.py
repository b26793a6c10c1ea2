"""The Processing provider that holds the S2 Cloud CNN algorithms."""

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .apply_kernels import ApplyKernelsAlgorithm
from .build_reference import BuildReferenceAlgorithm
from .detect_clouds import DetectCloudsAlgorithm
from .detect_clouds_many import DetectCloudsManyAlgorithm
from .evaluate_mask import EvaluateMaskAlgorithm
from .export_feature_maps import ExportFeatureMapsAlgorithm
from .export_kernels import ExportKernelsAlgorithm
from .stack_l1c import StackL1cAlgorithm
from .summarize_evaluations import SummarizeEvaluationsAlgorithm
from .support.base import RASTER_EXTENSIONS
from .support.paths import ICON_PATH
from .workflow_model import L1cCloudMaskModel

ALGORITHMS = (
    EvaluateMaskAlgorithm,
    SummarizeEvaluationsAlgorithm,
    BuildReferenceAlgorithm,
    StackL1cAlgorithm,
    DetectCloudsAlgorithm,
    DetectCloudsManyAlgorithm,
    ExportFeatureMapsAlgorithm,
    ExportKernelsAlgorithm,
    ApplyKernelsAlgorithm,
    L1cCloudMaskModel,
)


class S2CloudCnnProvider(QgsProcessingProvider):
    """Provider `s2cloudcnn`: Sentinel-2 L1C cloud masking with a small CNN."""

    def id(self):
        """Stable provider id, the prefix of every algorithm id."""
        return 's2cloudcnn'

    def name(self):
        """Short name shown in the toolbox."""
        return 'S2 Cloud CNN'

    def longName(self):
        """Longer name shown in tooltips."""
        return 'S2 Cloud CNN: Sentinel-2 L1C cloud masking with a convolutional neural network'

    def icon(self):
        """The provider's icon."""
        return QIcon(ICON_PATH)

    def svgIconPath(self):
        """The provider's icon as an SVG path."""
        return ICON_PATH

    def supportedOutputRasterLayerExtensions(self):
        """Offer only the format the algorithms write (GeoTIFF) for raster outputs."""
        return list(RASTER_EXTENSIONS)

    def loadAlgorithms(self):
        """Add a fresh instance of each algorithm."""
        for algorithm_class in ALGORITHMS:
            self.addAlgorithm(algorithm_class())
