"""Self-contained HTML pages: the repository report (graph, waves, bootstrap timeline, live state,
findings) and the HTML diff. Built from plain data: the JSON the other commands print, and the diff's
object model. ``collect`` gathers that data; ``repository`` and ``diff`` lay out the pages."""
