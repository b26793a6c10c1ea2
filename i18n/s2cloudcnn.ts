<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>S2CloudCnn</name>
    <message>
        <location filename="../algorithms/apply_kernels.py"/>
        <source>Reflectance stack (band descriptions name the bands)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/apply_kernels.py"/>
        <source>Kernel database of layer 1 (JSON)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/apply_kernels.py"/>
        <source>Filters, e.g. "1, 3, 5-8" (empty = all)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/apply_kernels.py"/>
        <source>Kernel feature maps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/apply_kernels.py"/>
        <source>Convolves a reflectance stack with the layer-1 kernels of a kernel database (from "Export kernel database"), without the CNN or onnxruntime: the result equals the model's own layer-1 feature maps ("Export CNN feature maps", layer 1) to float precision.

Each output band f = a(bias[f] + sum over bands and the 3x3 neighbourhood of weights x reflectance), with the file's reflectance-space kernels, the paper's zero border outside the image and at no-data pixels, and the file's activation a (leaky ReLU or ReLU). No-data pixels are NaN in the output.

&lt;b&gt;Input&lt;/b&gt;: a raster whose band descriptions name the file's bands (any order, extra bands ignored), in reflectance (unit 1). &lt;b&gt;Filters&lt;/b&gt;: e.g. "1, 3, 5-8"; empty = all. Works block by block, so a full tile needs little memory.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/apply_kernels.py"/>
        <source>Apply kernels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/apply_kernels.py"/>
        <source>Convolve a reflectance stack with layer-1 kernels of a kernel database, without the CNN.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Seed polygons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Class field (ALCD code 2..7 or class name)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Least cloud-vs-clear vote share (below: not used)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Ring at cloud/clear boundaries (pixels, not used)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Clear pixels with B10 above this are not used (0: off)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Cloud reference (ALCD classes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Vote margin (where to add seeds next)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>HTML files (*.html)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Out-of-bag accuracy on the seed pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>The seed layer could not be loaded; give a polygon layer or file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Trees</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Least seed pixels per class</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Random seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>The seed layer has no field {!r}; choose the field that holds the ALCD class (fields: {})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Makes a reference cloud mask (ground truth) for your own area the way the ALCD references of Baetens et al. (2019) were made: you draw seed polygons on classes you can recognise, a random forest (scikit-learn) learns them from per-pixel features (the 13 bands, NDVI, NDWI, NDSI, brightness, whiteness, B10 and SWIR ratios, 5 x 5 neighbourhood means and standard deviations) and classifies every pixel; you look at the map, add seeds where it is wrong or unsure, and run again.

&lt;b&gt;Input&lt;/b&gt;: a raster with the 13 L1C bands named by description (the 60 m stack of &lt;i&gt;Stack Sentinel-2 L1C bands&lt;/i&gt;), or an L1C product (SAFE folder, .zip or MTD_MSIL1C.xml: the file browser shows zips and MTD files), stacked to 60 m on the fly. &lt;b&gt;Seeds&lt;/b&gt;: polygons in any CRS (reprojected onto the raster) with a class field holding ALCD codes or names: 2 opaque cloud, 3 thin cloud, 4 cloud shadow, 5 land, 6 water, 7 snow. At least one cloud and one clear class; every class needs the minimum number of pixels; polygons of two classes must not overlap.

&lt;b&gt;Output&lt;/b&gt; (Byte, ALCD codes, styled with ALCD's colours): 0 no data, 1 not used, 2..7. A pixel becomes 1 where the forest's cloud-vs-clear vote share is below the threshold, in a ring of the given width at every cloud/clear boundary (mixed pixels), and, with a cirrus limit above 0, where a clear pixel's B10 exceeds it (cirrus seen only at 1375 nm). &lt;i&gt;Evaluate cloud mask&lt;/i&gt; reads it with its ALCD preset. &lt;b&gt;Vote margin&lt;/b&gt; (Float32): winning class's vote share minus the runner-up's; low values show where to add seeds next. &lt;b&gt;Report&lt;/b&gt; (HTML): seeds per class, out-of-bag accuracy, pixels per class, the rules applied.

&lt;b&gt;scikit-learn&lt;/b&gt; is needed only here: tick &lt;i&gt;Also install scikit-learn&lt;/i&gt; in &lt;i&gt;Plugins &amp;gt; S2 Cloud CNN &amp;gt; Install Python dependencies…&lt;/i&gt; (QGIS's numpy and scipy are kept), or on Debian and Ubuntu install python3-sklearn.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Build cloud reference (ALCD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/build_reference.py"/>
        <source>Build a cloud reference map from a few seed polygons with a random forest (the ALCD method).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Only this extent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Cloud mask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Cloud probability</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Cloud mask on the 10 m / 20 m grid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Grow cloud and shadow by (pixels, cloud and shadow mask)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Cloud and shadow mask (L1C product only)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Cloud fraction of the valid pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Shadow fraction of the valid pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Execution provider used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>The cloud and shadow mask needs the sun and view angles of an L1C product, which a band stack lacks: give the product (INPUT or PRODUCT), or leave CLOUD_SHADOW empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Pixels per inference batch (0: 256 on CPU, 8192 on GPU)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Grid of the native-resolution mask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Finds clouds with the patch-to-pixel CNN of Kristollari &amp; Karathanassi (2020): every pixel is classified from the 16 x 16 patch around it, zero-padded by 8 pixels at the image border, so the mask has exactly the input's grid.

&lt;b&gt;Input&lt;/b&gt;: a raster whose bands the model needs, found by band description ('B02 (496.6 nm)', 'B8A', ...), e.g. the 60 m stack of &lt;i&gt;Stack L1C bands at 60 m&lt;/i&gt;, in reflectance (Float32, unit 1; integer rasters are read as reflectance x 10000). &lt;b&gt;Or Sentinel-2 L1C product&lt;/b&gt;: a SAFE folder, .zip or MTD_MSIL1C.xml, stacked to 60 m on the fly (the file browser shows zips and MTD files: for an unzipped SAFE folder pick its MTD_MSIL1C.xml). Give one of the two. Pixels where any band is no data (NaN or the band's nodata) are not inferred and stay no data.

&lt;b&gt;Model&lt;/b&gt;: &lt;i&gt;s2cloudcnn-l1c13&lt;/i&gt; (default) expects the 13 L1C bands at 60 m (the stack of &lt;i&gt;Stack L1C bands at 60 m&lt;/i&gt;, or a product); it learned from pixels where two independent detectors (s2cloudless, Fmask) agree, plus synthetic clouds, so it reproduces those detectors rather than human labels. &lt;i&gt;s2cloudcnn-rgbn&lt;/i&gt; (&lt;b&gt;experimental&lt;/b&gt;) expects B02, B03, B04, B08 at 10 m in &lt;b&gt;Level-2A&lt;/b&gt; surface reflectance; it learned from the human labels of 8 On Cloud N chips of three places and does not carry to a new place: trained without a place, it agrees with the human labels of that place's chips at F 0.68, where the rule B02 &gt; 0.15 scores 0.91. A custom .onnx given in &lt;i&gt;Custom model file&lt;/i&gt; is used instead of the bundled one. Either way its bands, pixel size and scaling are checked before any work (models/README.md has the full cards). &lt;b&gt;Threshold&lt;/b&gt;: empty = the model's own (0.5 for the bundled ones). &lt;b&gt;Execution provider&lt;/b&gt;: Auto uses CUDA when onnxruntime-gpu offers it and it starts, else the CPU; the log says which one ran, and why CUDA did not.

&lt;b&gt;Outputs&lt;/b&gt;: cloud mask (Byte: 0 clear, 1 cloud, 255 no data; styled, with a .qml beside it), optional cloud probability (Float32, NaN no data), optional mask on the product's 10 m or 20 m grid (nearest neighbour) to mask the native bands.

&lt;b&gt;Cloud and shadow mask&lt;/b&gt; (L1C product only: it needs the sun and view angles of the tile metadata): Byte, 0 clear, 1 cloud, 2 shadow, 255 no data, styled. Each cloud object is projected along the sun and view directions for heights of 200 m to 12 km and matched against pixels darker than their surroundings in NIR and SWIR (Fmask's method, Zhu &amp; Woodcock 2012). &lt;b&gt;Grow cloud and shadow by&lt;/b&gt; N pixels: a buffer in that mask only.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Detect clouds (CNN)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds.py"/>
        <source>Cloud mask of a Sentinel-2 L1C product or 60 m band stack, from the bundled CNN.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Folder of L1C products (.zip, .SAFE)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Search its sub-folders too</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Or / and L1C products</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Also write cloud probabilities</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Products table</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Give a folder of L1C products (INPUT_FOLDER), a list of products (PRODUCTS), or both.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Runs &lt;i&gt;Detect clouds (CNN)&lt;/i&gt; on every Sentinel-2 L1C product of a folder (and its sub-folders if asked) or of a list: each product is stacked to 60 m and classified with the chosen model and settings.

&lt;b&gt;Outputs&lt;/b&gt;, in the output folder, named after the product (its SAFE name, the ESA product id): &lt;i&gt;id&lt;/i&gt;_cloudmask.tif (0 clear, 1 cloud, 255 no data) and, if asked, &lt;i&gt;id&lt;/i&gt;_probability.tif. &lt;b&gt;Table&lt;/b&gt; (CSV or GeoPackage, loaded as a layer): one row per product with its id, sensing time, tile, valid fraction, cloud fraction, seconds taken, status (done, skipped, failed) and, for a failed product, why.

A product that cannot be used (damaged, Level-2A, a band missing) is recorded as failed and the job goes on. &lt;b&gt;Resumable&lt;/b&gt;: a product whose outputs exist and were made with the same model (same file) and threshold, as recorded in their metadata, is skipped; run the same job again after a cancel or a crash and only what is missing is done. Cancel stops between products (the one in progress leaves nothing).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Detect clouds in many products</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/detect_clouds_many.py"/>
        <source>Cloud masks of every L1C product in a folder or list, with a table of cloud fractions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/evaluate_mask.py"/>
        <source>Predicted cloud mask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/evaluate_mask.py"/>
        <source>Ground truth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/evaluate_mask.py"/>
        <source>Error map (TN, TP, FN, FP)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/evaluate_mask.py"/>
        <source>{}: the raster could not be loaded; give a raster file or layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/evaluate_mask.py"/>
        <source>Evaluate cloud mask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/evaluate_mask.py"/>
        <source>Compare a cloud mask with ground truth: accuracy, recall, precision, F-score, error map.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_feature_maps.py"/>
        <source>Convolutional layer (1 = first)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_feature_maps.py"/>
        <source>Feature maps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_feature_maps.py"/>
        <source>HTML report with contact sheet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_feature_maps.py"/>
        <source>Writes the feature maps of one convolutional layer of the CNN over the input scene: one Float32 band per filter, on the input's grid, NaN where the input has no data. Every value comes from the ONNX model's own intermediate outputs (conv1, conv2, conv3), not from a copy of the network.

&lt;b&gt;What a band holds&lt;/b&gt;: for the pixel (r, c), filter f of layer i after its activation (before pooling), taken at the cell of the pixel's own 16 x 16 patch that holds the patch centre: cell 8 of the 16 x 16 layer-1 map, 4 of the 8 x 8 layer-2 map, 2 of the 4 x 4 layer-3 map. For layer 1 this is exactly the layer's 3x3 convolution over the zero-padded scene (what "Apply kernels" reproduces without the CNN). For layers 2 and 3 the value depends on the whole patch around the pixel, so those maps are not convolutions of the scene; they cost one model run per pixel (about as long as cloud detection).

&lt;b&gt;Input&lt;/b&gt;: a stack whose band descriptions name the model's bands (from "Stack Sentinel-2 L1C bands at 60 m"), in reflectance (unit 1). &lt;b&gt;Filters&lt;/b&gt;: e.g. "1, 3, 5-8"; empty = all. &lt;b&gt;Report&lt;/b&gt; (optional): an HTML page with a contact sheet of the maps (like the paper's Fig. 7), each map's range and the inputs its kernels weigh most.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_feature_maps.py"/>
        <source>Export CNN feature maps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_feature_maps.py"/>
        <source>Write what one convolutional layer of the CNN sees over a scene, one band per filter.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_kernels.py"/>
        <source>Kernel database (JSON)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_kernels.py"/>
        <source>Kernel table (CSV)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_kernels.py"/>
        <source>Writes the 3x3 kernels and biases of one convolutional layer of the CNN as a kernel database (the paper's proposal: reuse the kernels as features outside neural networks), with the model id, band names, normalisation and the layer's activation.

The numbers are read back from the ONNX model by probing it, not copied from training code: layer 1 with unit impulses through its pre-activation output conv1_linear (exact); layers 2 and 3 by least squares from the model's own pooled previous activations to its conv_linear output (the fit's residual, recorded, proves the layer is a 3x3 convolution). With batch normalisation the kernels include it (folded).

&lt;b&gt;Layer 1&lt;/b&gt; has two sets: &lt;i&gt;normalised&lt;/i&gt; (the network's own weights, acting on z = (reflectance - band_mean) / band_std) and &lt;i&gt;reflectance&lt;/i&gt; (the same map acting on reflectance directly, with the paper's zero border): map = a(bias + sum of weights x neighbourhood), a = the activation. &lt;b&gt;Layers 2, 3&lt;/b&gt; act on the previous layer's 2 x 2 max-pooled activations (one input per previous filter), not on bands.

&lt;b&gt;Summary&lt;/b&gt; per filter: the L1 norm of each input's 3x3 kernel (layer 1: in the normalised space, where bands are comparable), its share, and the three strongest inputs. The CSV has one row per filter, input and space (w11 ... w33 row by row, north to south), with the rank of the input in its filter (1 = weighs most).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_kernels.py"/>
        <source>Export kernel database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/export_kernels.py"/>
        <source>Write the 3x3 kernels of one convolutional layer as JSON and CSV.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>UTM zone for products over two zones (default: main zone)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Pixel size in metres (a multiple of 60; the model needs 60)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Decode 10 m bands at 20 m (faster, approximate)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Sentinel-2 L1C product (.zip, or MTD_MSIL1C.xml in a SAFE folder; a typed SAFE or band-file folder works too)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Band files *_B01 ... *_B12 (instead of a product)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Crop to extent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>13-band reflectance stack at 60 m</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Fraction of valid pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Give either a Sentinel-2 L1C product (INPUT) or its band files (BAND_FILES), not both and not neither.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Reads a Sentinel-2 Level-1C product and writes its 13 bands (B01 ... B8A ... B12) at 60 m, in top-of-atmosphere reflectance, as the cloud detector expects.

&lt;b&gt;Product&lt;/b&gt;: a SAFE folder, a zipped SAFE (read in place, never unzipped), its MTD_MSIL1C.xml, the 2015-2016 OPER/PDMC format, or a folder of band files named the ESA way (*_B01.jp2 ... *_B12.jp2, or GeoTIFF). In the dialog, the file browser shows product zips and MTD files: for an unzipped SAFE folder pick its MTD_MSIL1C.xml, or type the folder path. &lt;b&gt;Band files&lt;/b&gt;: a list of such files instead.

&lt;b&gt;Reflectance&lt;/b&gt; = (DN + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE, both read from the product metadata (baseline 04.00 and later: offset -1000; earlier: none). Level-2A products are refused: the model was trained on Level-1C top-of-atmosphere reflectance.

&lt;b&gt;Resampling&lt;/b&gt;: 10 m and 20 m bands are area-averaged (the mean of the 36 or 9 pixels in each 60 m pixel, what a 60 m detector would measure); 60 m bands are kept as they are. The grid is the tile's own 60 m grid.

&lt;b&gt;No data&lt;/b&gt;: DN 0. A 60 m pixel is NaN on every band if any of its source pixels, in any band, is no data.

&lt;b&gt;Output&lt;/b&gt;: Float32 reflectance (unit 1), NaN as no data, tiled and DEFLATE-compressed, band names with wavelengths, product metadata. Float32 keeps the exact reflectance of the averaged bands (scaled integers would round them) and NaN needs no sentinel value.

&lt;b&gt;Extent&lt;/b&gt; (optional): crop to an area, snapped outward to the 60 m grid; any CRS. &lt;b&gt;UTM zone&lt;/b&gt; (optional): for products over two UTM zones, the zone to stack (default: the zone of most granules). &lt;b&gt;Pixel size&lt;/b&gt; (optional): 120 m, 180 m ... by the same area mean, for a quick look; the cloud model needs 60 m.

&lt;b&gt;Decode 10 m bands at 20 m&lt;/b&gt; (optional, off by default): JPEG2000 decoding is nearly all of the time on a fully imaged tile; this reads the 10 m bands at their 20 m resolution level (about half the stacking time) and area-averages that. The wavelet's 20 m level is not an exact area mean: on a real tile B02-B04 differed by 0.4-1.5 % and B08 by 3 % of the mean reflectance (README, Performance), and at the swath edge a few partly imaged pixels get a value. Leave it off for the cloud model's exact input.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Stack L1C bands at 60 m</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/stack_l1c.py"/>
        <source>Stack the 13 bands of a Sentinel-2 L1C product at 60 m in top-of-atmosphere reflectance.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Predicted masks (of every method)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Methods (one row each: name, file name pattern, classes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Ground truths</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Folder of ground truths</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Per-image metrics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Per-image metrics CSV</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Per-method metrics (means, pooled)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Per-method metrics CSV</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Report with plots</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Give the ground truths (GROUND_TRUTHS), a folder of them (GROUND_TRUTH_FOLDER), or both.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>CSV files (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Predictions (file name pattern)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Classes (preset number or key)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Cloud values (custom)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Clear values (custom)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Threshold (probability)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Methods (METHODS): {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>GROUND_TRUTH_FOLDER: {} is not a folder; choose the folder of ground truths</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Summarise evaluations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/summarize_evaluations.py"/>
        <source>Evaluate many cloud masks of any number of methods against their ground truths: per-image and per-method tables, plots and a report.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/base.py"/>
        <source>{} ({}) must be at least {:.10g}; {:.10g} is out of range</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/base.py"/>
        <source>{} ({}) must be between {:.10g} and {:.10g}; {:.10g} is out of range</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/base.py"/>
        <source>{}: the plugin writes GeoTIFF only; name the file .tif instead of .{}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/class_parameters.py"/>
        <source>{}: classes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/class_parameters.py"/>
        <source>{}: cloud values (custom classes, e.g. "2, 3")</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/class_parameters.py"/>
        <source>{}: clear values (custom classes, e.g. "4-7")</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/class_parameters.py"/>
        <source>{}: cloud probability threshold</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/class_parameters.py"/>
        <source>{}_CLASSES: {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/class_parameters.py"/>
        <source>&lt;b&gt;Classes&lt;/b&gt; say what each raster's values mean. Presets: this plugin's mask (0 clear, 1 cloud, 255 no data); ALCD reference maps (2 low, 3 high cloud = cloud; 4 shadow, 5 land, 6 water, 7 snow = clear; 0, 1 ignored); Sen2Cor SCL (8, 9 cloud medium/high probability and 10 thin cirrus = cloud; 3 cloud shadow and 11 snow are &lt;i&gt;clear&lt;/i&gt; since they are not cloud, as are 2, 4-7; 0 no data and 1 saturated are ignored); Fmask (4 = cloud, 255 no data, all else clear); a probability raster (cloud where value &gt;= threshold); or custom lists of values ("2, 3" or "8-10"; values in neither list are not evaluated). The band's no-data value and NaN are never evaluated. &lt;b&gt;Shadow presets&lt;/b&gt; score this plugin's cloud and shadow mask (0 clear, 1 cloud, 2 shadow) against ALCD references: with "shadow scored" on both sides the positive class (called cloud in the outputs) is shadow (ALCD class 4); with "cloud or shadow scored" it is cloud or shadow against clear.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/model_choice.py"/>
        <source>Model (l1c13: 13 L1C bands at 60 m; rgbn, experimental: 10 m L2A B02-B04, B08)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/model_choice.py"/>
        <source>Custom model file (.onnx with S2 Cloud CNN metadata)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/model_choice.py"/>
        <source>Cloud probability threshold (empty: the model's)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/model_choice.py"/>
        <source>Execution provider</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/model_choice.py"/>
        <source>MODEL is "{}": give the .onnx in MODEL_FILE.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/raster_or_product.py"/>
        <source>Or Sentinel-2 L1C product (.zip, or MTD_MSIL1C.xml in a SAFE folder; instead of the input above)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/support/raster_or_product.py"/>
        <source>Give the band stack or the L1C product as the input, or the product in the product field below it; one of the two, not both.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>The algorithms can use it now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>Restart QGIS to use it: this session has already loaded an onnxruntime.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>Install onnxruntime, which S2 Cloud CNN needs to run models, and optionally scikit-learn (Build cloud reference)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>Install Python dependencies</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>The installation is already running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>Installing {} for S2 Cloud CNN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>Installing {} because {}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>onnxruntime {} is already installed at {}.

</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>Install {package} with pip into
{folder}

This downloads {size} from PyPI. QGIS's own numpy is kept as it is.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>Also install {} (only Build cloud reference needs it; about 12 MB more; it uses QGIS's scipy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>Installing {} …</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../gui/dependency_installer.py"/>
        <source>The installation failed unexpectedly ({}); the Log Messages panel has the details.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
