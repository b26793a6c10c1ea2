"""Whole-scene view of the l1c13 model on Betsiboka next to s2cloudless and the agreement labels.

Example: python -m models.training.scene_figure (writes results/s2cloudcnn-l1c13/betsiboka_*)
"""

import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from models.training import datasets, report  # noqa: E402
from models.training.agreement import agreement_labels  # noqa: E402
from models.training.generator import row_patches, zero_bordered  # noqa: E402
from models.training.sources import BETSIBOKA, SHARED_DATA  # noqa: E402

S2CLOUDLESS_THRESHOLD = 0.4  # s2cloudless's own default mask threshold


def predict_scene(model_path, reflectance, rows_per_run=16):
    """P(cloud) of every pixel of a [bands, H, W] reflectance array with an ONNX model."""
    import onnxruntime

    session = onnxruntime.InferenceSession(model_path, providers=['CPUExecutionProvider'])
    bordered = zero_bordered(reflectance)
    height, width = reflectance.shape[1:]
    columns = np.arange(width)
    probability = np.zeros((height, width), np.float32)
    for first in range(0, height, rows_per_run):
        rows = range(first, min(height, first + rows_per_run))
        patches = np.concatenate([row_patches(bordered, row, columns) for row in rows])
        result = session.run(['probability'], {'patches': patches})[0]
        probability[first:first + len(rows)] = result.reshape(len(rows), width)
    return probability


def _figure(path, rgb, panels, cut):
    import matplotlib

    matplotlib.use('Agg')
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, 1 + len(panels), figsize=(4 * (1 + len(panels)), 6.5))
    axes[0].imshow(rgb)
    axes[0].set_title('B04 B03 B02 (TOA x 3)')
    for axis, (title, image, limits) in zip(axes[1:], panels):
        axis.imshow(image, vmin=limits[0], vmax=limits[1], cmap='viridis')
        axis.set_title(title)
    for axis in axes:
        axis.axvline(cut, color='red', linewidth=1)
        axis.set_axis_off()
    figure.suptitle('Betsiboka: right of the red line = held-out region')
    figure.tight_layout(rect=(0, 0, 1, 0.94))
    figure.savefig(path, dpi=80)
    pyplot.close(figure)


def main(model_path=None, results=None):
    """Write the figure and the CNN-vs-s2cloudless agreement over all held-out pixels."""
    model_path = model_path or os.path.join(REPO, 'models', 's2cloudcnn-l1c13.onnx')
    results = results or os.path.join(REPO, 'models', 'training', 'results', 's2cloudcnn-l1c13')
    reflectance = datasets.read_image(os.path.join(SHARED_DATA, *BETSIBOKA), 1e-4)
    labels, details = agreement_labels(reflectance)
    cut = datasets.split_column(labels, 0.25)
    cnn = predict_scene(model_path, reflectance)
    s2c = details['s2cloudless_probability']
    valid = np.isfinite(reflectance).all(axis=0)
    valid[:, :cut] = False
    row = {'image': 'betsiboka held-out region, all valid pixels: CNN vs s2cloudless mask',
           **report.confusion_metrics(s2c[valid] >= S2CLOUDLESS_THRESHOLD, cnn[valid] >= 0.5)}
    report.write_csv(os.path.join(results, 'betsiboka_vs_s2cloudless.csv'),
                     report.METRIC_FIELDS, [row])
    rgb = np.clip(np.nan_to_num(reflectance[[3, 2, 1]]).transpose(1, 2, 0) * 3, 0, 1)
    _figure(os.path.join(results, 'betsiboka_scene.png'), rgb, [
        ('agreement labels (-1 none, 0, 1)', labels, (-1, 1)),
        ('s2cloudless probability', s2c, (0, 1)), ('CNN P(cloud)', cnn, (0, 1))], cut)
    return row


if __name__ == '__main__':
    print(main())
