"""Enum values and field types as each QGIS spells them: one code base for 3.22 and QGIS 4.

QGIS 3.36+ and QGIS 4 (Qt 6) scope them in `Qgis`; 3.22 has only the class-level names.
"""

from qgis.core import (
    Qgis,
    QgsField,
    QgsProcessing,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsWkbTypes,
)


def _pick(scoped_enum, member, legacy_owner, legacy_name):
    enum = getattr(Qgis, scoped_enum, None)
    return getattr(enum, member) if enum is not None else getattr(legacy_owner, legacy_name)


FLAG_ADVANCED = _pick('ProcessingParameterFlag', 'Advanced',
                      QgsProcessingParameterDefinition, 'FlagAdvanced')
FLAG_OPTIONAL = _pick('ProcessingParameterFlag', 'Optional',
                      QgsProcessingParameterDefinition, 'FlagOptional')
FLAG_HIDDEN = _pick('ProcessingParameterFlag', 'Hidden',
                    QgsProcessingParameterDefinition, 'FlagHidden')
NUMBER_DOUBLE = _pick('ProcessingNumberParameterType', 'Double',
                      QgsProcessingParameterNumber, 'Double')
NUMBER_INTEGER = _pick('ProcessingNumberParameterType', 'Integer',
                       QgsProcessingParameterNumber, 'Integer')
FILE_FOLDER = _pick('ProcessingFileParameterBehavior', 'Folder',
                    QgsProcessingParameterFile, 'Folder')
SOURCE_RASTER = _pick('ProcessingSourceType', 'Raster', QgsProcessing, 'TypeRaster')
SOURCE_VECTOR = _pick('ProcessingSourceType', 'Vector', QgsProcessing, 'TypeVector')
SOURCE_POLYGON = _pick('ProcessingSourceType', 'VectorPolygon', QgsProcessing,
                       'TypeVectorPolygon')
SOURCE_FILE = _pick('ProcessingSourceType', 'File', QgsProcessing, 'TypeFile')
NO_GEOMETRY = _pick('WkbType', 'NoGeometry', QgsWkbTypes, 'NoGeometry')


def advanced(parameter):
    """Mark a parameter as advanced (folded under 'Advanced Parameters') and return it."""
    parameter.setFlags(parameter.flags() | FLAG_ADVANCED)
    return parameter


def typed_field(name, kind):
    """Return a QgsField of a Python type, on QGIS 3.22 (QVariant) and 3.38+ (QMetaType)."""
    if Qgis.QGIS_VERSION_INT >= 33800:
        from qgis.PyQt.QtCore import QMetaType
        types = {str: QMetaType.Type.QString, int: QMetaType.Type.LongLong,
                 float: QMetaType.Type.Double}
    else:
        from qgis.PyQt.QtCore import QVariant
        types = {str: QVariant.String, int: QVariant.LongLong, float: QVariant.Double}
    return QgsField(name, types[kind])
