"""Agreement of the CNN, s2cloudless and the Fmask-style rule with our ALCD-style references.

On the held-out rows of the free pixels, per scene (models/README.md's comparison table).

Example: python -m models.training.compare_detectors --model models/s2cloudcnn-l1c13.onnx

Agreement with our own references, never accuracy against independent ground truth; reserved
pixels are never evaluated.
"""

import argparse
import os

import numpy as np

from algorithms.core.detection.inference import read_model
from models.training import datasets, report, reserved, sources
from models.training.agreement import fmask_tests
from models.training.config import REPO, default_data_root
from models.training.patches import IGNORED, LabelledImage, row_patches, zero_bordered

BRIGHT_LAND = 0.15  # mean visible (B02-B04) reflectance of 'bright land'
FIELDS = ('scene', 'detector', 'pixels', 'accuracy', 'recall', 'precision', 'fscore',
          'thin_cloud_pixels', 'thin_cloud_recall', 'bright_land_pixels',
          'bright_land_commission')


def heldout_classes(name, reflectance, classes, reserved_mask):
    """ALCD classes on the held-out rows only (0 elsewhere and on every reserved pixel)."""
    labels = np.where(np.isin(classes, (2, 3, 4, 5, 6, 7)), 0, IGNORED).astype(np.int8)
    held = datasets.split_rows(LabelledImage(name, reflectance, labels))[1]
    reserved.check_not_reserved([held], reserved_mask)
    return np.where(held.labels >= 0, classes, 0)


def cnn_mask(model_path, reflectance, judged):
    """The model's mask (P >= its threshold) at the `judged` pixels."""
    metadata, session = read_model(model_path)
    bordered = zero_bordered(reflectance)
    mask = np.zeros(judged.shape, bool)
    for row in np.flatnonzero(judged.any(axis=1)):
        columns = np.flatnonzero(judged[row])
        probability = session.run(metadata.output_name, {
            metadata.input_name: row_patches(bordered, row, columns)})[:, 0]
        mask[row, columns] = probability >= metadata.threshold
    return mask


def s2cloudless_mask(reflectance):
    """s2cloudless 1.7.3's own mask with its documented defaults (threshold 0.4, all bands)."""
    from s2cloudless import S2PixelCloudDetector

    data = np.nan_to_num(reflectance, nan=0.0).transpose(1, 2, 0)[np.newaxis]
    detector = S2PixelCloudDetector(all_bands=True)
    return detector.get_cloud_masks(data.astype(np.float32))[0].astype(bool)


def fmask_rule_mask(reflectance):
    """The Fmask-style rule's own decision: potential cloud pixel (HOT > 0) or B10 >= 0.01."""
    return ~fmask_tests(reflectance)[1]


def agreement(classes, predicted, reflectance):
    """Agreement of a mask with the reference classes 2..7 (cloud = 2, 3) of one scene."""
    judged = classes >= 2
    truth = np.isin(classes, (2, 3))
    row = report.confusion_metrics(truth[judged], predicted[judged])
    thin = classes == 3
    with np.errstate(invalid='ignore'):
        bright = (classes == 5) & (reflectance[1:4].mean(axis=0) >= BRIGHT_LAND)
    row.update({
        'thin_cloud_pixels': int(thin.sum()),
        'thin_cloud_recall': float(predicted[thin].mean()) if thin.any() else float('nan'),
        'bright_land_pixels': int(bright.sum()),
        'bright_land_commission': float(predicted[bright].mean()) if bright.any()
        else float('nan')})
    return row


def compare(models, data):
    """Rows of FIELDS: every detector on every scene's held-out reference pixels under `data`."""
    rows = []
    for name, reflectance, classes, reserved_mask in sources.reference_scenes(data):
        held = heldout_classes(name, reflectance, classes, reserved_mask)
        detectors = {label: cnn_mask(path, reflectance, held >= 2) for label, path in models}
        detectors['s2cloudless 1.7.3 (defaults)'] = s2cloudless_mask(reflectance)
        detectors['Fmask-style rule + B10 test'] = fmask_rule_mask(reflectance)
        for label, mask in detectors.items():
            rows.append({'scene': name, 'detector': label,
                         **agreement(held, mask, reflectance)})
    return rows


def main(argv=None):
    """Print the comparison and write it as CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', action='append', default=[],
                        help='LABEL=PATH or PATH of an .onnx model (repeatable)')
    parser.add_argument('--data', default=default_data_root())
    parser.add_argument('--csv', default=os.path.join(
        REPO, 'models', 'training', 'results', 's2cloudcnn-l1c13-references',
        'reference_agreement.csv'))
    args = parser.parse_args(argv)
    models = [tuple(m.split('=', 1)) if '=' in m else (os.path.basename(m), m)
              for m in args.model]
    rows = compare(models, args.data)
    report.write_csv(args.csv, FIELDS, rows)
    for row in rows:
        print(', '.join(f'{k} {row[k]:.4f}' if isinstance(row[k], float) else f'{k} {row[k]}'
                        for k in FIELDS), flush=True)
    return rows


if __name__ == '__main__':
    main()
