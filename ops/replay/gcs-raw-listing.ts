import { RawManifestSchema, type RawManifest } from '../../functions/src/core/raw-object.js';
import type { RestClient } from '../../functions/src/adapters/gcp/google-rest.js';

/** One object of a listing: its name and the generation that pins its bytes. */
export interface ListedObject {
  name: string;
  generation: string;
}

interface ObjectsPage {
  items?: { name?: string; generation?: string }[];
  nextPageToken?: string;
}

/** The raw bucket through the Cloud Storage JSON API: listing, and each raw object's manifest. */
export class GcsRawListing {
  constructor(
    private readonly rest: RestClient,
    private readonly baseUrl: string,
    readonly bucket: string,
  ) {}

  private objectsUrl(): string {
    return `${this.baseUrl}/storage/v1/b/${encodeURIComponent(this.bucket)}/o`;
  }

  /** Every live object under `prefix`, following `nextPageToken` (objects.list, 1000 a page). */
  async list(prefix: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({
        prefix,
        fields: 'items(name,generation),nextPageToken',
        ...(pageToken === undefined ? {} : { pageToken }),
      });
      const page = await this.rest.request<ObjectsPage>('GET', `${this.objectsUrl()}?${query}`);
      for (const item of page.items ?? [])
        if (item.name !== undefined && item.generation !== undefined)
          objects.push({ name: item.name, generation: item.generation });
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined && pageToken !== '');
    return objects;
  }

  /** The object's exact generation, parsed as JSON (a failure record). */
  json(object: ListedObject): Promise<unknown> {
    const query = new URLSearchParams({ alt: 'media', generation: object.generation });
    return this.rest.request<unknown>(
      'GET',
      `${this.objectsUrl()}/${encodeURIComponent(object.name)}?${query}`,
    );
  }

  /**
   * The manifest of the object's exact generation (objects.get `alt=media&generation=G`): the same
   * bytes the load will read, so the event points at what was checked.
   */
  async manifest(object: ListedObject): Promise<RawManifest> {
    const query = new URLSearchParams({ alt: 'media', generation: object.generation });
    const body = await this.rest.request<{ manifest?: unknown }>(
      'GET',
      `${this.objectsUrl()}/${encodeURIComponent(object.name)}?${query}`,
    );
    const parsed = RawManifestSchema.safeParse(body.manifest);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new Error(
        `not a raw object: manifest.${first?.path.join('.') ?? ''} ${first?.message ?? 'is missing'}`,
      );
    }
    return parsed.data;
  }
}
