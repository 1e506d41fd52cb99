/* tc-qr-code.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <glib/gi18n.h>
#include <qrencode.h>

#include "tc-qr-code.h"

/* The light margin around the code that readers need (ISO/IEC 18004). */
#define QUIET_ZONE 4
/* Intrinsic size: pixels per module when nothing asks for another size. */
#define MODULE_PIXELS 6

struct _TcQrCode
{
  GObject  parent_instance;

  char    *text;
  int      size;
  guint8  *modules;     /* size × size, row by row: 1 dark, 0 light */
};

static void tc_qr_code_paintable_init (GdkPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TcQrCode, tc_qr_code, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE,
                                                      tc_qr_code_paintable_init))

static void
tc_qr_code_snapshot (GdkPaintable *paintable,
                     GdkSnapshot  *snapshot,
                     double        width,
                     double        height)
{
  TcQrCode *self = TC_QR_CODE (paintable);
  static const GdkRGBA light = { 1, 1, 1, 1 };
  static const GdkRGBA dark = { 0, 0, 0, 1 };
  int total = self->size + 2 * QUIET_ZONE;
  double side = MIN (width, height);
  double module = side / total;
  double x0, y0;

  if (total <= 0 || side <= 0)
    return;

  /* Whole pixels per module keep the edges sharp; below one pixel a
   * module, nothing could read it anyway. */
  if (module >= 1)
    module = floor (module);
  side = module * total;
  x0 = floor ((width - side) / 2);
  y0 = floor ((height - side) / 2);

  gtk_snapshot_append_color (snapshot, &light, &GRAPHENE_RECT_INIT (x0, y0, side, side));
  for (int y = 0; y < self->size; y++)
    {
      const guint8 *row = self->modules + y * self->size;

      /* One rectangle per run of dark modules in a row. */
      for (int x = 0; x < self->size; )
        {
          int run;

          if (!row[x])
            {
              x++;
              continue;
            }
          for (run = 1; x + run < self->size && row[x + run]; run++)
            ;
          gtk_snapshot_append_color (snapshot, &dark,
                                     &GRAPHENE_RECT_INIT (x0 + (x + QUIET_ZONE) * module,
                                                          y0 + (y + QUIET_ZONE) * module,
                                                          run * module, module));
          x += run;
        }
    }
}

static int
tc_qr_code_get_intrinsic_width (GdkPaintable *paintable)
{
  TcQrCode *self = TC_QR_CODE (paintable);

  return (self->size + 2 * QUIET_ZONE) * MODULE_PIXELS;
}

static GdkPaintableFlags
tc_qr_code_get_flags (GdkPaintable *paintable)
{
  return GDK_PAINTABLE_STATIC_CONTENTS | GDK_PAINTABLE_STATIC_SIZE;
}

static void
tc_qr_code_paintable_init (GdkPaintableInterface *iface)
{
  iface->snapshot = tc_qr_code_snapshot;
  iface->get_intrinsic_width = tc_qr_code_get_intrinsic_width;
  iface->get_intrinsic_height = tc_qr_code_get_intrinsic_width;
  iface->get_flags = tc_qr_code_get_flags;
}

static void
tc_qr_code_finalize (GObject *object)
{
  TcQrCode *self = TC_QR_CODE (object);

  g_free (self->text);
  g_free (self->modules);

  G_OBJECT_CLASS (tc_qr_code_parent_class)->finalize (object);
}

static void
tc_qr_code_class_init (TcQrCodeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tc_qr_code_finalize;
}

static void
tc_qr_code_init (TcQrCode *self)
{
}

TcQrCode *
tc_qr_code_new (const char  *text,
                GError     **error)
{
  g_autoptr(TcQrCode) self = NULL;
  QRcode *code;
  int saved_errno;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (*text == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("There is nothing to show as a QR code"));
      return NULL;
    }

  /* Version 0: the smallest that holds the text. */
  code = QRcode_encodeString8bit (text, 0, QR_ECLEVEL_M);
  if (code == NULL)
    {
      saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not make a QR code: %s"),
                   saved_errno == ERANGE ? _("the text is too long") : g_strerror (saved_errno));
      return NULL;
    }

  self = g_object_new (TC_TYPE_QR_CODE, NULL);
  self->text = g_strdup (text);
  self->size = code->width;
  self->modules = g_malloc ((gsize) code->width * code->width);
  /* libqrencode's byte per module: bit 0 is "dark". */
  for (int i = 0; i < code->width * code->width; i++)
    self->modules[i] = code->data[i] & 1;
  QRcode_free (code);

  return g_steal_pointer (&self);
}

const char *
tc_qr_code_get_text (TcQrCode *self)
{
  g_return_val_if_fail (TC_IS_QR_CODE (self), NULL);

  return self->text;
}

int
tc_qr_code_get_size (TcQrCode *self)
{
  g_return_val_if_fail (TC_IS_QR_CODE (self), 0);

  return self->size;
}

gboolean
tc_qr_code_get_module (TcQrCode *self,
                       int       x,
                       int       y)
{
  g_return_val_if_fail (TC_IS_QR_CODE (self), FALSE);

  if (x < 0 || y < 0 || x >= self->size || y >= self->size)
    return FALSE;

  return self->modules[y * self->size + x] != 0;
}
