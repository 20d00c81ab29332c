using Microsoft.AspNetCore.Http.HttpResults;
using RecSys.Api.Contracts;
using RecSys.Catalog;

namespace RecSys.Api.Endpoints;

public static class ItemsApi
{
    public static IEndpointRouteBuilder MapItemsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/items").WithTags("Catalog");
        group.MapGet("/{id}", GetItem)
            .WithName("GetItem")
            .WithSummary("One catalog item")
            .WithDescription("Returns the item's display and catalog fields, or 404 when the catalog has no such item.")
            .Produces<ItemResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>One catalog item.</summary>
    /// <param name="id">The item id, for example <c>i_1234</c>.</param>
    /// <param name="catalog">The catalog.</param>
    public static Results<Ok<ItemResponse>, ProblemHttpResult> GetItem(string id, ICatalog catalog)
    {
        if (!catalog.TryGetItem(id, out var item))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such item.", detail: $"The catalog has no item '{id}'.");
        }
        var author = catalog.GetUser(item.AuthorIndex).Id;
        return TypedResults.Ok(new ItemResponse(item.Id, item.Title, item.Category, author, item.CreatedAt, item.EngagementScore, item.IsNsfw, item.Region, item.Language, item.ThumbnailUrl));
    }
}
