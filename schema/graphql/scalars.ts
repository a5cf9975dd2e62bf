/** The custom scalars of the contract: DateTime and JSON from graphql-scalars, Upload for multipart. */
import { GraphQLError, GraphQLScalarType } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { GraphQLUpload } from 'graphql-upload-minimal';

export const DateTimeScalar = DateTimeResolver; // named `DateTime`
export const JSONScalar = JSONResolver; // named `JSON`
const upload = GraphQLUpload.toConfig();

/**
 * Named `Upload`; its value is a Promise<FileUpload>. The promise rejects when the request does
 * not deliver the file it promised (a body cut short, a map naming a part that is not there):
 * the request's fault, so BAD_USER_INPUT rather than an internal error.
 */
export const UploadScalar = new GraphQLScalarType({
  ...upload,
  parseValue(value) {
    const file = Promise.resolve(upload.parseValue?.(value)).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      throw new GraphQLError(`the upload failed: ${message}`, { extensions: { code: 'BAD_USER_INPUT' } });
    });
    // Not every value is awaited (an unauthenticated request never reaches its resolver): a
    // rejection nobody waits for must not become an unhandled one.
    file.catch(() => {});
    return file;
  },
});
