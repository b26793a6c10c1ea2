"""Nothing lost, no traceback (issue 12): each bad case through Processing on real files."""

import hashlib
import os
import shutil

import pytest
from conftest import data_path, qgis_process
from detect_helpers import CROP, RGBN_CROP, SHIPPED_MODEL
from evaluation_helpers import LABEL, Recording
from filesystems import read_only_folder, small_disk
from l1c_fixtures import T32UPV, T32UPV_CORNER, TOULOUSE, band_file, extract
from qgis.core import QgsProcessingException

DETECT, EVALUATE = 's2cloudcnn:detectclouds', 's2cloudcnn:evaluatemask'
STACK, SUMMARY = 's2cloudcnn:stackl1c', 's2cloudcnn:summarizeevaluations'
KERNELS, MAPS = 's2cloudcnn:exportkernels', 's2cloudcnn:featuremaps'
APPLY = 's2cloudcnn:applykernels'
INSPECTION_STACK = data_path('inspection', 'betsiboka_crop64_refl13.tif')


def fingerprints(*folders):
    """Name -> sha256 of every file under the folders (what must not change)."""
    found = {}
    for folder in folders:
        for root, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(root, name)
                with open(path, 'rb') as stream:
                    found[path] = hashlib.sha256(stream.read()).hexdigest()
    return found


def refused(run_algorithm, algorithm, parameters, match, *folders):
    """Run, expect one QgsProcessingException matching `match`, and nothing changed in folders."""
    before = fingerprints(*folders)
    with pytest.raises(QgsProcessingException, match=match):
        run_algorithm(algorithm, parameters)
    assert fingerprints(*folders) == before


@pytest.fixture
def inputs(tmp_path):
    """Copies of the real inputs in their own folder, and an empty output folder."""
    folder = tmp_path / 'in'
    folder.mkdir()
    for path in (CROP, SHIPPED_MODEL, LABEL, INSPECTION_STACK):
        shutil.copy(path, folder)
    (tmp_path / 'out').mkdir()
    return folder


def detect_parameters(inputs, **extra):
    return {'INPUT': str(inputs / 'betsiboka_crop_toa13.tif'), 'EXECUTION_PROVIDER': 'CPU',
            'OUTPUT': str(inputs.parent / 'out' / 'mask.tif'), **extra}


# --- outputs onto inputs, two outputs on one file ------------------------------------------

def test_detect_output_onto_the_model_file_is_refused(run_algorithm, inputs, tmp_path):
    model = str(inputs / 's2cloudcnn-l1c13.onnx')
    refused(run_algorithm, DETECT, detect_parameters(inputs, MODEL_FILE=model, OUTPUT=model),
            'GeoTIFF only', tmp_path)


def test_detect_native_mask_onto_the_input_is_refused(run_algorithm, inputs, tmp_path):
    parameters = detect_parameters(inputs, OUTPUT_NATIVE=str(inputs / 'betsiboka_crop_toa13.tif'))
    refused(run_algorithm, DETECT, parameters, 'is also an input', tmp_path)


def test_detect_output_reaching_the_input_through_a_symlinked_folder(run_algorithm, inputs,
                                                                        tmp_path):
    (tmp_path / 'link').symlink_to(inputs, target_is_directory=True)
    parameters = detect_parameters(inputs, OUTPUT=str(tmp_path / 'link' /
                                                      'betsiboka_crop_toa13.tif'))
    refused(run_algorithm, DETECT, parameters, 'is also an input', tmp_path)


def test_detect_mask_and_probability_on_one_file(run_algorithm, inputs, tmp_path):
    same = str(tmp_path / 'out' / 'mask.tif')
    refused(run_algorithm, DETECT, detect_parameters(inputs, PROBABILITY=same),
            r'Cloud mask \(OUTPUT\) and Cloud probability \(PROBABILITY\) are the same file',
            tmp_path)


def test_evaluate_report_on_the_error_map_file(run_algorithm, inputs, tmp_path):
    same = str(tmp_path / 'out' / 'errors.tif')
    parameters = {'PREDICTION': str(inputs / 'kgvd.tif'), 'GROUND_TRUTH': str(inputs / 'kgvd.tif'),
                  'ERROR_MAP': same, 'REPORT': same}
    refused(run_algorithm, EVALUATE, parameters, 'are the same file', tmp_path)


@pytest.mark.parametrize('output', ['PER_IMAGE_CSV', 'PER_METHOD_CSV', 'REPORT'])
def test_summary_outputs_onto_a_prediction_or_ground_truth(run_algorithm, inputs, tmp_path,
                                                           output):
    label = str(inputs / 'kgvd.tif')
    parameters = {'PREDICTIONS': [label], 'GROUND_TRUTHS': [label], output: label}
    refused(run_algorithm, SUMMARY, parameters, 'is also an input', tmp_path)


# --- full disk, read-only folder -----------------------------------------------------------

def test_stack_on_a_full_disk_fails_cleanly(run_algorithm, tmp_path):
    with small_disk(tmp_path / 'disk', '16k') as disk:
        refused(run_algorithm, STACK, {
            'INPUT': T32UPV, 'OUTPUT': str(disk / 'stack.tif'),
            'EXTENT': '{},{},{},{} [EPSG:32632]'.format(*T32UPV_CORNER[0::2],
                                                         *T32UPV_CORNER[1::2])},
            'full.*free some space', disk)
        assert os.listdir(disk) == []


def test_detect_on_a_full_disk_fails_cleanly(run_algorithm, inputs, tmp_path):
    with small_disk(tmp_path / 'disk', '32k') as disk:
        parameters = detect_parameters(inputs, OUTPUT=str(disk / 'mask.tif'),
                                       PROBABILITY=str(disk / 'probability.tif'))
        refused(run_algorithm, DETECT, parameters, 'full.*free some space', disk, inputs)
        assert os.listdir(disk) == []


def test_read_only_folder_for_each_algorithm(run_algorithm, inputs, tmp_path):
    out = tmp_path / 'out'
    label, crop = str(inputs / 'kgvd.tif'), str(inputs / 'betsiboka_crop_toa13.tif')
    with read_only_folder(tmp_path / 'ro') as ro:
        cases = [
            (STACK, {'INPUT': TOULOUSE, 'OUTPUT': str(ro / 'stack.tif')}),
            (DETECT, detect_parameters(inputs, OUTPUT_NATIVE=str(ro / 'mask20.tif'))),
            (EVALUATE, {'PREDICTION': label, 'GROUND_TRUTH': label,
                        'ERROR_MAP': str(out / 'errors.tif'), 'REPORT': str(ro / 'r.html')}),
            (SUMMARY, {'PREDICTIONS': [label], 'GROUND_TRUTHS': [label],
                       'REPORT': str(out / 's.html'), 'PER_METHOD_CSV': str(ro / 's.csv')}),
            (KERNELS, {'OUTPUT': str(out / 'k.json'), 'OUTPUT_CSV': str(ro / 'k.csv')}),
            (MAPS, {'INPUT': str(inputs / 'betsiboka_crop64_refl13.tif'), 'FILTERS': '1',
                    'OUTPUT': str(out / 'maps.tif'), 'REPORT': str(ro / 'maps.html')}),
            (DETECT, {**detect_parameters(inputs), 'INPUT': crop, 'OUTPUT': str(ro / 'm.tif')}),
        ]
        for algorithm, parameters in cases:
            refused(run_algorithm, algorithm, parameters, 'choose a folder you can write to',
                    tmp_path / 'out', inputs)
            assert os.listdir(out) == [], algorithm


# --- damaged inputs --------------------------------------------------------------------------

def cut(path, share):
    """Keep only the first `share` of a file's bytes, as an interrupted download does."""
    size = os.path.getsize(path)
    with open(path, 'r+b') as stream:
        stream.truncate(int(size * share))


def test_jp2_cut_at_90_percent_is_named(run_algorithm, tmp_path):
    safe = extract(TOULOUSE, tmp_path / 'product')
    broken = band_file(safe, 'B02')
    cut(broken, 0.9)
    (tmp_path / 'out').mkdir()
    for algorithm, output in ((STACK, 'OUTPUT'), (DETECT, 'OUTPUT')):
        refused(run_algorithm, algorithm, {'INPUT' if algorithm == STACK else 'PRODUCT': safe,
                                           output: str(tmp_path / 'out' / 'x.tif')},
                f'{os.path.basename(broken)}.*damaged or incomplete', tmp_path)


def test_truncated_geotiff_inputs_are_named(run_algorithm, inputs, tmp_path):
    crop, label = inputs / 'betsiboka_crop_toa13.tif', inputs / 'kgvd.tif'
    kernels = tmp_path / 'k.json'
    run_algorithm(KERNELS, {'OUTPUT': str(kernels)})
    cut(crop, 0.6)
    cut(label, 0.6)
    out = str(tmp_path / 'out' / 'x.tif')
    for algorithm, parameters in (
            (DETECT, detect_parameters(inputs)),
            (APPLY, {'INPUT': str(crop), 'KERNELS': str(kernels), 'OUTPUT': out}),
            (EVALUATE, {'PREDICTION': str(label), 'GROUND_TRUTH': str(label),
                        'ERROR_MAP': out})):
        name = 'kgvd.tif' if algorithm == EVALUATE else crop.name
        refused(run_algorithm, algorithm, parameters, f'{name}.*damaged or incomplete',
                tmp_path / 'out', inputs)


def test_model_graph_disagreeing_with_its_metadata_is_refused_before_work(run_algorithm, inputs,
                                                                           tmp_path):
    import onnx
    from onnx_builder import build_model

    from algorithms.core.sentinel2.bands import L1C_BANDS

    path = tmp_path / 'twelve.onnx'
    build_model(path, bands=L1C_BANDS[:12])
    model = onnx.load(str(path))
    thirteen = build_model(tmp_path / 'thirteen.onnx')
    onnx.helper.set_model_props(model, thirteen.to_props())  # claims 13 bands, takes 12
    onnx.save(model, str(path))
    refused(run_algorithm, DETECT, detect_parameters(inputs, MODEL_FILE=str(path)),
            'twelve.onnx.*12 bands.*metadata.*13', tmp_path / 'out')


# --- leftovers, parameters -------------------------------------------------------------------

def test_leftovers_of_a_killed_run_are_removed_at_the_next_run(run_algorithm, inputs, tmp_path):
    out = tmp_path / 'out'
    ours = ['mask.partial-0badc0de.tif', 'mask.partial-0badc0de.tif.aux.xml']
    others = ['mask.partial-backup.tif', 'other.partial-0badc0de.tif']
    for name in ours + others:
        (out / name).write_bytes(b'left by kill -9')
    feedback = Recording()
    run_algorithm(DETECT, detect_parameters(inputs), feedback=feedback)
    assert sorted(os.listdir(out)) == sorted(others + ['mask.tif', 'mask.qml'])
    assert sum('interrupted run' in line for line in feedback.lines) == len(ours)


def test_enum_index_as_qgis_process_help_suggests(tmp_path):
    rgbn = tmp_path / 'rgbn.tif'
    shutil.copy(RGBN_CROP, rgbn)
    result = qgis_process('run', DETECT, '--', f'INPUT={rgbn}', 'MODEL=1',
                          'EXECUTION_PROVIDER=1', f'OUTPUT={tmp_path / "mask.tif"}')
    assert 's2cloudcnn-rgbn.onnx' in result.stdout + result.stderr
    assert 'CPUExecutionProvider' in result.stdout + result.stderr


@pytest.mark.parametrize('name, value, message', [
    ('THRESHOLD', 1.5, 'THRESHOLD.*between 0 and 1'),
    ('BATCH_SIZE', -5, 'BATCH_SIZE.*between 0 and 1048576')])
def test_out_of_range_numbers_name_the_range(run_algorithm, inputs, tmp_path, name, value,
                                             message):
    refused(run_algorithm, DETECT, detect_parameters(inputs, **{name: value}), message,
            tmp_path / 'out')
