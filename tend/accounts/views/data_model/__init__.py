"""The data modeler's pages: attributes per object type, journey stages, roles and tags.

Every member reads them; admins change definitions (writers: tags). Lists and their create
forms share one URL: GET shows, POST creates and redirects, or answers 422 with the form.
One module per concept; ``pages`` holds what their views share.
"""
