<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="AllStyleCategories" hasScaleBasedVisibilityFlag="0" minScale="1e+08" maxScale="0">
  <pipe>
    <rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">
      <rasterTransparency/>
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <colorPalette>
        <paletteEntry value="0" color="#000000" alpha="0" label="0 no data"/>
        <paletteEntry value="1" color="#808080" alpha="255" label="1 not used"/>
        <paletteEntry value="2" color="#ffffff" alpha="255" label="2 opaque cloud"/>
        <paletteEntry value="3" color="#00ffff" alpha="255" label="3 thin cloud"/>
        <paletteEntry value="4" color="#404040" alpha="255" label="4 cloud shadow"/>
        <paletteEntry value="5" color="#00a000" alpha="255" label="5 land"/>
        <paletteEntry value="6" color="#0000ff" alpha="255" label="6 water"/>
        <paletteEntry value="7" color="#ff00ff" alpha="255" label="7 snow"/>
      </colorPalette>
      <colorramp type="randomcolors" name="[source]"/>
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" grayscaleMode="0" colorizeOn="0" colorizeRed="255" colorizeGreen="128" colorizeBlue="128" colorizeStrength="100" invertColors="0"/>
    <rasterresampler maxOversampling="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
